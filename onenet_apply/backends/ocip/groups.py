"""Hunt groups and call centres over OCI-P, each action one document; call
pickup and park groups (keyed by name in BroadWorks) are in `named_groups`.

Hunt groups and call centres are service instances with a user id
(`ID@DOMAIN`), a number and an extension. Member lists are written whole
(`Replacement*List`); an empty list is cleared with NULL, as the schema asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onenet_apply.backends.common import Call
from onenet_apply.backends.ocip import codec, named_groups
from onenet_apply.backends.ocip.dn import dn
from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.passwords import generate_password
from onenet_apply.model.plan import Action

DEFAULT_RINGS = 5  # what BroadWorks keeps while hunting after no answer is off
DEFAULT_TIMEOUT = 0  # likewise the forward timeout while forwarding is off
NAMED = ("call_pickup_group", "call_park_group")

# the hunt group's other settings, as a new one gets them in the portal
HUNT_DEFAULTS = {
    "allow_call_waiting_for_agents": False,
    "use_system_hunt_group_clid_setting": True,
    "include_hunt_group_name_in_clid": True,
    "enable_not_reachable_forwarding": False,
    "make_busy_when_not_reachable": False,
    "allow_members_to_control_group_busy": False,
    "enable_group_busy": False,
    "apply_group_busy_when_terminating_to_agent": False,
}
CENTRE_DEFAULTS = {
    "policy": "Circular",
    "enable_video": False,
    "queue_length": 10,
    "allow_caller_to_dial_escape_digit": False,
    "escape_digit": "0",
    "reset_call_statistics_upon_entry_in_queue": True,
    "allow_agent_logoff": True,
    "allow_call_waiting_for_agents": False,
    "external_preferred_audio_codec": "None",
    "internal_preferred_audio_codec": "None",
    "play_ringing_when_offering_call": True,
}


def create_group(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    if action.target.type in NAMED:
        named_groups.create(link, action)
    elif action.target.type == "hunt_group":
        link.send(*_hunt_create(link, action))
    else:
        link.send(*_centre_create(link, mapping, action))


def update_group(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    if action.target.type in NAMED:
        named_groups.update(link, action)
        return
    values = action.values()
    fields: dict[str, Any] = {}
    profile = _profile_changes(values)
    if profile:
        fields["service_instance_profile"] = codec.value("ServiceInstanceModifyProfile", **profile)
    if action.target.type == "hunt_group":
        name = "GroupHuntGroupModifyInstanceRequest"
        if "policy" in values:
            fields["policy"] = values["policy"].capitalize()
        if "no_answer" in values:
            fields.update(no_answer_fields(values["no_answer"], clear=codec.NULL))
    else:
        name = "GroupCallCenterModifyInstanceRequest22"
        if "edition" in values:
            fields["type"] = mapping.editions[values["edition"]]
    link.send(codec.request(name, service_user_id=link.user_id(action.target.id), **fields))


def set_members(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    if action.target.type in NAMED:
        named_groups.set_members(link, action)
    elif action.target.type == "hunt_group":
        link.send(hunt_members(link, action.target.id, action))
    else:
        link.send(*_centre_lists(link, action.target.id, action.values()))


def delete_group(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    if action.target.type in NAMED:
        named_groups.delete(link, action)
        return
    name = (
        "GroupHuntGroupDeleteInstanceRequest"
        if action.target.type == "hunt_group"
        else "GroupCallCenterDeleteInstanceRequest"
    )
    link.send(codec.request(name, service_user_id=link.user_id(action.target.id)))


# -- hunt groups ------------------------------------------------------------------------
def no_answer_fields(no_answer: Mapping[str, Any] | None, clear: Any = None) -> dict[str, Any]:
    """The site file's `no_answer` as BroadWorks' four settings: hunting on after
    `rings` is on exactly when rings are given, forwarding after `timeout` exactly
    when a timeout is given; the forward number is kept either way. `clear` is
    what a missing forward number is sent as (NULL on a modify clears it)."""
    no_answer = no_answer or {}
    rings, timeout = no_answer.get("rings"), no_answer.get("timeout")
    forward = no_answer.get("forward_to")
    fields = {
        "hunt_after_no_answer": rings is not None,
        "no_answer_number_of_rings": DEFAULT_RINGS if rings is None else rings,
        "forward_after_timeout": timeout is not None,
        "forward_timeout_seconds": DEFAULT_TIMEOUT if timeout is None else timeout,
    }
    if forward is not None or clear is not None:  # a field is left out, never None
        fields["forward_to_phone_number"] = forward if forward is not None else clear
    return fields


def _hunt_create(link: SiteLink, action: Action) -> list[Any]:
    values = action.values()
    members, weights = values.get("members") or [], values.get("weights") or {}
    add = codec.request(
        "GroupHuntGroupAddInstanceRequest20",
        service_provider_id=link.enterprise,
        group_id=link.group,
        service_user_id=link.user_id(action.target.id),
        service_instance_profile=_add_profile("ServiceInstanceAddProfile", values, "Hunt Group"),
        policy=values["policy"].capitalize(),
        **no_answer_fields(values.get("no_answer")),
        **HUNT_DEFAULTS,
        # a list field is left out, never sent empty
        **(
            {"agent_user_id": [link.user_id(u) for u in members]} if members and not weights else {}
        ),
    )
    if not (members and weights):
        return [add]
    # weighted members go in with their weights, in one command after the group
    return [add, _weighted_list(link, action.target.id, members, weights)]


def hunt_members(link: SiteLink, group_id: str, action: Action) -> Any:
    """One command for a member list write: the weights alone when the members
    stay, the members with their weights when both change (so a weighted group
    never holds members whose weights do not sum to 100), else the members."""
    changes = {c.field: c for c in action.changes}
    members = list(changes["members"].after) if "members" in changes else []
    service_user_id = link.user_id(group_id)
    if "weights" not in changes:
        return codec.request(
            "GroupHuntGroupModifyInstanceRequest",
            service_user_id=service_user_id,
            agent_user_id_list=_user_list(link, members),
        )
    weights = changes["weights"].after or {}
    if "members" not in changes or list(changes["members"].before or []) == members:
        agent_weights = _agent_weights(link, members or list(weights), weights)
        return codec.request(
            "GroupHuntGroupModifyInstanceWeightedCallDistributionRequest",
            service_user_id=service_user_id,
            **({"agent_weight": agent_weights} if agent_weights else {}),
        )
    return _weighted_list(link, group_id, members, weights)


def _weighted_list(
    link: SiteLink, group_id: str, members: list[str], weights: Mapping[str, int]
) -> Any:
    agent_weights = _agent_weights(link, members, weights)
    return codec.request(
        "GroupHuntGroupConsolidatedModifyInstanceRequest",
        service_user_id=link.user_id(group_id),
        agent_weight_list=codec.value("ReplacementAgentWeightList", agent_weight=agent_weights)
        if agent_weights
        else codec.NULL,
    )


def _agent_weights(link: SiteLink, members: list[str], weights: Mapping[str, int]) -> list[Any]:
    """A weight per member; a member without one weighs 0, as BroadWorks gives a new agent."""
    return [
        codec.value("HuntAgentWeight", agent_user_id=link.user_id(u), weight=weights.get(u, 0))
        for u in members
    ]


# -- call centres -----------------------------------------------------------------------
def _centre_create(link: SiteLink, mapping: ServiceMapping, action: Action) -> list[Any]:
    values = action.values()
    # the centre's own portal password: nobody logs in as the centre, so it is
    # generated, sent once and kept nowhere
    profile = _add_profile(
        "ServiceInstanceAddProfileCallCenter", values, "Call Centre", password=generate_password()
    )
    add = codec.request(
        "GroupCallCenterAddInstanceRequest22",
        service_provider_id=link.enterprise,
        group_id=link.group,
        service_user_id=link.user_id(action.target.id),
        service_instance_profile=profile,
        type=mapping.editions[values["edition"]],
        **CENTRE_DEFAULTS,
    )
    return [add, *_centre_lists(link, action.target.id, values)]


def _centre_lists(link: SiteLink, group_id: str, values: Mapping[str, Any]) -> list[Any]:
    service_user_id = link.user_id(group_id)
    commands = []
    if "agents" in values:
        commands.append(
            codec.request(
                "GroupCallCenterModifyAgentListRequest",
                service_user_id=service_user_id,
                agent_user_id_list=_user_list(link, values["agents"]),
            )
        )
    if "supervisors" in values:
        commands.append(
            codec.request(
                "GroupCallCenterModifySupervisorListRequest16",
                service_user_id=service_user_id,
                supervisor_user_id_list=_user_list(link, values["supervisors"]),
            )
        )
    return commands


# -- shared -----------------------------------------------------------------------------
def _add_profile(type_name: str, values: Mapping[str, Any], kind: str, **extra: Any) -> Any:
    return codec.value(
        type_name,
        name=values["name"],
        calling_line_id_last_name=values["name"],
        calling_line_id_first_name=kind,
        phone_number=dn(values["number"]),
        extension=values["extension"],
        **extra,
    )


def _profile_changes(values: Mapping[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = {}
    if "name" in values:
        profile["name"] = profile["calling_line_id_last_name"] = values["name"]
    if "number" in values:
        profile["phone_number"] = dn(values["number"])
    if "extension" in values:
        profile["extension"] = values["extension"]
    return profile


def _user_list(link: SiteLink, users: list[str]) -> Any:
    """A whole member list; NULL clears it (an empty list cannot be sent)."""
    if not users:
        return codec.NULL
    return codec.value("ReplacementUserIdList", user_id=[link.user_id(u) for u in users])
