"""The peer's answers to group reads: instance lists, one instance, its member
tables, the site's call park settings, and the group's number assignments
(whose "Activated" column is the carrier's activation: pending or failed is
not activated, as OCI-P knows no failure)."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from onenet_apply.backends.base import NotFoundError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.dn import dn
from onenet_apply.backends.ocip.groups import DEFAULT_RINGS, DEFAULT_TIMEOUT
from onenet_apply.backends.ocip.instance_names import InstanceName
from onenet_apply.backends.ocip.peer import group_store
from onenet_apply.backends.ocip.peer.context import Handler, PeerContext
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.state import Lifecycle

TYPES = ServiceMapping.default().editions  # edition -> callCenterType
HUNT, CENTRE, PICKUP, PARK = "hunt_group", "call_centre", "call_pickup_group", "call_park_group"
MEMBER_COLUMNS = ("user_id", "last_name", "first_name")
ACTIVATED = (Lifecycle.ACTIVATED, Lifecycle.DEACTIVATED)


@cache
def _row_type(name: str, columns: tuple[str, ...]) -> Any:
    return namedtuple(name, columns)  # type: ignore[misc]


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[Any]:
    """An OCITable: one named tuple per row, every value text."""
    row = _row_type("Row", tuple(columns))
    return [row(*("" if v is None else str(v) for v in values)) for values in rows]


def _members(ctx: PeerContext, site: str, ids: Iterable[str]) -> list[Any]:
    """The member table of a group: only its members' rows are read, not the site's
    (a read of every group would otherwise cost the site's users once per group)."""
    domain = group_store.domain_of(ctx, site)
    ids = list(ids)
    names = {
        r[0]: (r[1], r[2])
        for r in ctx.sandbox.db.execute(
            "SELECT id, last_name, first_name FROM users"
            " WHERE site = ? AND id IN (SELECT value FROM json_each(?))",
            (site, json.dumps(ids)),
        )
    }
    return table(MEMBER_COLUMNS, [(f"{u}@{domain}", *names.get(u, ("", ""))) for u in ids])


def _read_profile(item: Any) -> Any:
    number = dn(item.number)
    country, _, national = number[1:].partition("-")
    return codec.value(
        "ServiceInstanceReadProfile19sp1",
        name=item.name,
        calling_line_id_last_name=item.name,
        calling_line_id_first_name="Hunt Group" if hasattr(item, "policy") else "Call Centre",
        phone_number=national,
        extension=item.extension,
        country_code=country,
    )


# -- hunt groups and call centres --------------------------------------------------------
def hunt_list(ctx: PeerContext, request: Any) -> Any:
    site = request.group_id
    domain = group_store.domain_of(ctx, site)
    rows = [
        (
            f"{g.item.id}@{domain}",
            g.item.name,
            g.item.number,
            g.item.extension,
            "",
            "true",
            g.item.policy.capitalize(),
        )
        for g in group_store.groups(ctx, site, HUNT)
    ]
    columns = (
        "service_user_id",
        "name",
        "phone_number",
        "extension",
        "department",
        "is_active",
        "policy",
    )
    return codec.response(
        "GroupHuntGroupGetInstanceListResponse", hunt_group_table=table(columns, rows)
    )


def hunt_get(ctx: PeerContext, request: Any) -> Any:
    site, local = group_store.site_of(ctx, request.service_user_id)
    item = group_store.group(ctx, site, HUNT, local).item
    stored = group_store.weights(ctx, site, local)
    no_answer = item.no_answer
    rings = no_answer.rings if no_answer else None
    timeout = no_answer.timeout if no_answer else None
    agents = _members(ctx, site, item.members)
    weighted = table(
        (*MEMBER_COLUMNS, "weight"),
        [(*row, stored.get(u) or 0) for row, u in zip(agents, item.members, strict=True)],
    )
    return codec.response(
        "GroupHuntGroupGetInstanceResponse20",
        service_instance_profile=_read_profile(item),
        policy=item.policy.capitalize(),
        hunt_after_no_answer=rings is not None,
        no_answer_number_of_rings=DEFAULT_RINGS if rings is None else rings,
        forward_after_timeout=timeout is not None,
        forward_timeout_seconds=DEFAULT_TIMEOUT if timeout is None else timeout,
        **(
            {"forward_to_phone_number": no_answer.forward_to}
            if no_answer and no_answer.forward_to
            else {}
        ),
        agent_user_table=weighted,
        allow_call_waiting_for_agents=False,
        use_system_hunt_group_clid_setting=True,
        include_hunt_group_name_in_clid=True,
        enable_not_reachable_forwarding=False,
        make_busy_when_not_reachable=False,
        allow_members_to_control_group_busy=False,
        enable_group_busy=False,
        apply_group_busy_when_terminating_to_agent=False,
    )


def centre_list(ctx: PeerContext, request: Any) -> Any:
    site = request.group_id
    domain = group_store.domain_of(ctx, site)
    rows = [
        (
            f"{g.item.id}@{domain}",
            g.item.name,
            "false",
            g.item.number,
            g.item.extension,
            "",
            "true",
            "Circular",
            TYPES.get(g.item.edition, g.item.edition),
        )
        for g in group_store.groups(ctx, site, CENTRE)
    ]
    columns = (
        "service_user_id",
        "name",
        "video",
        "phone_number",
        "extension",
        "department",
        "is_active",
        "policy",
        "type",
    )
    return codec.response(
        "GroupCallCenterGetInstanceListResponse", call_center_table=table(columns, rows)
    )


def centre_get(ctx: PeerContext, request: Any) -> Any:
    site, local = group_store.site_of(ctx, request.service_user_id)
    item = group_store.group(ctx, site, CENTRE, local).item
    return codec.response(
        "GroupCallCenterGetInstanceResponse22",
        service_instance_profile=_read_profile(item),
        type=TYPES.get(item.edition, item.edition),
        policy="Circular",
        enable_video=False,
        queue_length=10,
        allow_caller_to_dial_escape_digit=False,
        escape_digit="0",
        reset_call_statistics_upon_entry_in_queue=True,
        allow_agent_logoff=True,
        allow_call_waiting_for_agents=False,
        external_preferred_audio_codec="None",
        internal_preferred_audio_codec="None",
        play_ringing_when_offering_call=True,
    )


def centre_agents(ctx: PeerContext, request: Any) -> Any:
    site, local = group_store.site_of(ctx, request.service_user_id)
    item = group_store.group(ctx, site, CENTRE, local).item
    return codec.response(
        "GroupCallCenterGetAgentListResponse", agent_table=_members(ctx, site, item.agents)
    )


def centre_supervisors(ctx: PeerContext, request: Any) -> Any:
    site, local = group_store.site_of(ctx, request.service_user_id)
    item = group_store.group(ctx, site, CENTRE, local).item
    return codec.response(
        "GroupCallCenterGetSupervisorListResponse16",
        supervisor_table=_members(ctx, site, item.supervisors),
    )


# -- pickup and park groups ---------------------------------------------------------------
def _instance_name(item: Any) -> str:
    recall = getattr(item, "recall_timer", None) is not None
    return InstanceName(item.id, item.name, recall).encode()


def named_list(group_type: str, response: str) -> Handler:
    def handle(ctx: PeerContext, request: Any) -> Any:
        group_store.check_enterprise(ctx, request.service_provider_id)
        found = group_store.named(ctx, request.group_id, group_type)
        names = [InstanceName(i, name, timer is not None).encode() for i, name, timer in found]
        return codec.response(response, **({"name": names} if names else {}))

    return handle


def named_get(group_type: str, response: str, **extra: Any) -> Handler:
    def handle(ctx: PeerContext, request: Any) -> Any:
        group_store.check_enterprise(ctx, request.service_provider_id)
        site = request.group_id
        name = group_store.decode_name(request.name)
        item = group_store.group(ctx, site, group_type, name.id).item
        if _instance_name(item) != request.name:
            raise NotFoundError(f"no call pickup or park group {request.name!r}")
        return codec.response(response, user_table=_members(ctx, site, item.members), **extra)

    return handle


def park_settings(ctx: PeerContext, request: Any) -> Any:
    group_store.check_enterprise(ctx, request.service_provider_id)
    return codec.response(
        "GroupCallParkGetResponse16sp2",
        recall_timer_seconds=group_store.recall_timer(ctx, request.group_id),
        display_timer_seconds=10,
        enable_destination_announcement=False,
        recall_ring_pattern="Normal",
        recall_to="Parking User Only",
        alternate_user_recall_timer_seconds=group_store.DEFAULT_RECALL_TIMER,
    )


HANDLERS: dict[str, Handler] = {
    "GroupHuntGroupGetInstanceListRequest": hunt_list,
    "GroupHuntGroupGetInstanceRequest20": hunt_get,
    "GroupCallCenterGetInstanceListRequest": centre_list,
    "GroupCallCenterGetInstanceRequest22": centre_get,
    "GroupCallCenterGetAgentListRequest": centre_agents,
    "GroupCallCenterGetSupervisorListRequest16": centre_supervisors,
    "GroupCallPickupGetInstanceListRequest": named_list(
        PICKUP, "GroupCallPickupGetInstanceListResponse"
    ),
    "GroupCallPickupGetInstanceRequest": named_get(PICKUP, "GroupCallPickupGetInstanceResponse"),
    "GroupCallParkGetInstanceListRequest": named_list(PARK, "GroupCallParkGetInstanceListResponse"),
    "GroupCallParkGetInstanceRequest16sp2": named_get(
        PARK, "GroupCallParkGetInstanceResponse16sp2", recall_to="Parking User Only"
    ),
    "GroupCallParkGetRequest16sp2": park_settings,
}
