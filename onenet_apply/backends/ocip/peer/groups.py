"""The peer's group requests: hunt groups, call centres, pickup and park groups.

Each write becomes the sandbox action it amounts to (`group_store.write`), so
the sandbox's rules hold (pending users join no hunt group or call centre,
agents need an agent option at or above the edition, a user is in one pickup
and one park group, weights sum to 100) and its refusal goes back as an
ErrorResponse naming the rule. The reads are in `group_answers`.
"""

from __future__ import annotations

from typing import Any

from onenet_apply.backends.base import ConflictError, RefusedError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.dn import e164
from onenet_apply.backends.ocip.group_reading import no_answer_of
from onenet_apply.backends.ocip.peer import group_answers, group_store
from onenet_apply.backends.ocip.peer.context import Handler, PeerContext
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.plan import Kind

EDITIONS = ServiceMapping.default().edition_names()  # callCenterType -> edition
HUNT, CENTRE, PICKUP, PARK = "hunt_group", "call_centre", "call_pickup_group", "call_park_group"


def _plain(value: Any) -> Any:
    """A decoded field: None when left out or sent as nil."""
    return None if value is None or value is codec.NULL else value


def _profile(profile: Any) -> dict[str, Any]:
    """name, number and extension from a service instance profile (add or modify)."""
    if _plain(profile) is None:
        return {}
    values = {}
    if profile.name is not None:
        values["name"] = profile.name
    if profile.phone_number is not None:
        values["number"] = e164(profile.phone_number)
    if profile.extension is not None:
        values["extension"] = profile.extension
    return values


def _no_answer(request: Any) -> dict[str, Any] | None:
    found = no_answer_of(request)
    if found is None:
        return None
    return {"rings": found.rings, "forward_to": found.forward_to, "timeout": found.timeout}


def _user_list(replacement: Any) -> list[str] | None:
    """The user ids of a Replacement*List: None when left out, [] when cleared."""
    if replacement is None:
        return None
    if replacement is codec.NULL:
        return []
    return list(replacement.user_id or ())


# -- hunt groups ------------------------------------------------------------------------
def hunt_add(ctx: PeerContext, request: Any) -> Any:
    group_store.check_enterprise(ctx, request.service_provider_id)
    site, local = group_store.site_of(ctx, request.service_user_id)
    values = {
        **_profile(request.service_instance_profile),
        "policy": request.policy.lower(),
        "no_answer": _no_answer(request),
    }
    if request.agent_user_id:
        values["members"] = group_store.local_ids(ctx, site, request.agent_user_id)
    group_store.write(ctx, request.group_id, Kind.CREATE, HUNT, local, values)
    return codec.success()


def hunt_modify(ctx: PeerContext, request: Any) -> Any:
    """Settings, then the agent list (kept agents keep their weight, a new one
    weighs 0, as in BroadWorks), or the agents with their weights."""
    site, local = group_store.site_of(ctx, request.service_user_id)
    settings = _profile(request.service_instance_profile)
    if request.policy is not None:
        settings["policy"] = request.policy.lower()
    if request.hunt_after_no_answer is not None:
        settings["no_answer"] = _no_answer(request)
    if settings:
        group_store.write(ctx, site, Kind.UPDATE, HUNT, local, settings)
    agents = _user_list(request.agent_user_id_list)
    weighted = getattr(request, "agent_weight_list", None)
    if agents is not None:
        members = group_store.local_ids(ctx, site, agents)
        stored = group_store.weights(ctx, site, local)
        values: dict[str, Any] = {"members": members}
        if group_store.group(ctx, site, HUNT, local).item.policy == "weighted":
            values["weights"] = {u: stored.get(u) or 0 for u in members}
        group_store.write(ctx, site, Kind.SET_MEMBERS, HUNT, local, values)
    elif weighted is not None:
        pairs = [] if weighted is codec.NULL else weighted.agent_weight
        members = group_store.local_ids(ctx, site, [p.agent_user_id for p in pairs])
        values = {
            "members": members,
            "weights": {u: p.weight for u, p in zip(members, pairs, strict=True)},
        }
        group_store.write(ctx, site, Kind.SET_MEMBERS, HUNT, local, values)
    return codec.success()


def hunt_weights(ctx: PeerContext, request: Any) -> Any:
    """New weights for the agents there are; an agent left out weighs 0."""
    site, local = group_store.site_of(ctx, request.service_user_id)
    members = list(group_store.group(ctx, site, HUNT, local).item.members)
    given = request.agent_weight or ()
    named = group_store.local_ids(ctx, site, [p.agent_user_id for p in given])
    strangers = sorted(set(named) - set(members))
    if strangers:
        raise RefusedError("weights", f"{', '.join(strangers)} not an agent of hunt group {local}")
    weights = {u: 0 for u in members} | {u: p.weight for u, p in zip(named, given, strict=True)}
    values = {"members": members, "weights": weights}
    group_store.write(ctx, site, Kind.SET_MEMBERS, HUNT, local, values)
    return codec.success()


def delete(group_type: str) -> Handler:
    def handle(ctx: PeerContext, request: Any) -> Any:
        site, local = group_store.site_of(ctx, request.service_user_id)
        group_store.write(ctx, site, Kind.DELETE, group_type, local, {})
        return codec.success()

    return handle


# -- call centres -----------------------------------------------------------------------
def _edition(call_center_type: str) -> str:
    edition = EDITIONS.get(call_center_type)
    if edition is None:
        raise RefusedError("catalogue", f"unknown call centre type {call_center_type!r}")
    return edition


def centre_add(ctx: PeerContext, request: Any) -> Any:
    group_store.check_enterprise(ctx, request.service_provider_id)
    _, local = group_store.site_of(ctx, request.service_user_id)
    values = {**_profile(request.service_instance_profile), "edition": _edition(request.type)}
    group_store.write(ctx, request.group_id, Kind.CREATE, CENTRE, local, values)
    return codec.success()


def centre_modify(ctx: PeerContext, request: Any) -> Any:
    site, local = group_store.site_of(ctx, request.service_user_id)
    values = _profile(request.service_instance_profile)
    if request.type is not None:
        values["edition"] = _edition(request.type)
    if values:
        group_store.write(ctx, site, Kind.UPDATE, CENTRE, local, values)
    return codec.success()


def centre_list(role: str, field: str) -> Handler:
    def handle(ctx: PeerContext, request: Any) -> Any:
        site, local = group_store.site_of(ctx, request.service_user_id)
        users = _user_list(getattr(request, field))
        if users is not None:
            values = {role: group_store.local_ids(ctx, site, users)}
            group_store.write(ctx, site, Kind.SET_MEMBERS, CENTRE, local, values)
        return codec.success()

    return handle


# -- pickup and park groups: keyed by name ------------------------------------------------
def named_add(group_type: str) -> Handler:
    def handle(ctx: PeerContext, request: Any) -> Any:
        group_store.check_enterprise(ctx, request.service_provider_id)
        site, name = request.group_id, group_store.decode_name(request.name)
        values: dict[str, Any] = {"name": name.name}
        if request.user_id:
            values["members"] = group_store.local_ids(ctx, site, request.user_id)
        if group_type == PARK:
            values["recall_timer"] = group_store.recall_timer(ctx, site) if name.recall else None
        group_store.write(ctx, site, Kind.CREATE, group_type, name.id, values)
        return codec.success()

    return handle


def named_modify(group_type: str) -> Handler:
    def handle(ctx: PeerContext, request: Any) -> Any:
        group_store.check_enterprise(ctx, request.service_provider_id)
        site, name = request.group_id, group_store.decode_name(request.name)
        current = group_store.group(ctx, site, group_type, name.id).item
        if _plain(request.new_name) is not None:
            new = group_store.decode_name(request.new_name)
            if new.id != name.id:
                raise ConflictError(f"{request.new_name!r} names another group than {name.id}")
            values: dict[str, Any] = {"name": new.name}
            if group_type == PARK and new.recall != (current.recall_timer is not None):
                values["recall_timer"] = group_store.recall_timer(ctx, site) if new.recall else None
            group_store.write(ctx, site, Kind.UPDATE, group_type, name.id, values)
        users = _user_list(request.user_id_list)
        if users is not None:
            members = group_store.local_ids(ctx, site, users)
            group_store.write(
                ctx, site, Kind.SET_MEMBERS, group_type, name.id, {"members": members}
            )
        return codec.success()

    return handle


def named_delete(group_type: str) -> Handler:
    def handle(ctx: PeerContext, request: Any) -> Any:
        group_store.check_enterprise(ctx, request.service_provider_id)
        name = group_store.decode_name(request.name)
        group_store.write(ctx, request.group_id, Kind.DELETE, group_type, name.id, {})
        return codec.success()

    return handle


def park_settings(ctx: PeerContext, request: Any) -> Any:
    """The site's recall timer: every park group that states one gets it."""
    group_store.check_enterprise(ctx, request.service_provider_id)
    timer = request.recall_timer_seconds
    if timer is not None:
        site = request.group_id
        for park in group_store.groups(ctx, site, PARK):
            if park.item.recall_timer is not None and park.item.recall_timer != timer:
                values = {"recall_timer": timer}
                group_store.write(ctx, site, Kind.UPDATE, PARK, park.item.id, values)
    return codec.success()


HANDLERS: dict[str, Handler] = {
    "GroupHuntGroupAddInstanceRequest20": hunt_add,
    "GroupHuntGroupModifyInstanceRequest": hunt_modify,
    "GroupHuntGroupConsolidatedModifyInstanceRequest": hunt_modify,
    "GroupHuntGroupModifyInstanceWeightedCallDistributionRequest": hunt_weights,
    "GroupHuntGroupDeleteInstanceRequest": delete(HUNT),
    "GroupCallCenterAddInstanceRequest22": centre_add,
    "GroupCallCenterModifyInstanceRequest22": centre_modify,
    "GroupCallCenterModifyAgentListRequest": centre_list("agents", "agent_user_id_list"),
    "GroupCallCenterModifySupervisorListRequest16": centre_list(
        "supervisors", "supervisor_user_id_list"
    ),
    "GroupCallCenterDeleteInstanceRequest": delete(CENTRE),
    "GroupCallPickupAddInstanceRequest": named_add(PICKUP),
    "GroupCallPickupModifyInstanceRequest": named_modify(PICKUP),
    "GroupCallPickupDeleteInstanceRequest": named_delete(PICKUP),
    "GroupCallParkAddInstanceRequest16sp2": named_add(PARK),
    "GroupCallParkModifyInstanceRequest": named_modify(PARK),
    "GroupCallParkDeleteInstanceRequest": named_delete(PARK),
    "GroupCallParkModifyRequest": park_settings,
    **group_answers.HANDLERS,
}
