"""Call pickup and call park groups over OCI-P: BroadWorks keys them by name
(`instance_names`), so a write first reads the group's instance names (one
document) to find the one whose id it is, then sends its own document.

The call park recall timer is one setting of the whole BroadWorks group (the
site, `GroupCallParkModifyRequest`). A park group that states a `recall_timer`
carries the recall mark and reads back the site's timer; one that does not
reads back none. Park groups that state a timer must agree: a write that would
give one a timer other than the one the others show is refused, unless the
plan moves the site's timer from the value it read (`before`), which is how a
change to every park group goes through one group at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onenet_apply.backends.base import NotFoundError, RefusedError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.instance_names import InstanceName, decode
from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.model.plan import Action

PICKUP, PARK = "call_pickup_group", "call_park_group"
RECALL_TO = "Parking User Only"
REQUESTS = {
    PICKUP: (
        "GroupCallPickupAddInstanceRequest",
        "GroupCallPickupModifyInstanceRequest",
        "GroupCallPickupDeleteInstanceRequest",
        "GroupCallPickupGetInstanceListRequest",
    ),
    PARK: (
        "GroupCallParkAddInstanceRequest16sp2",
        "GroupCallParkModifyInstanceRequest",
        "GroupCallParkDeleteInstanceRequest",
        "GroupCallParkGetInstanceListRequest",
    ),
}
SITE_TIMER = "GroupCallParkGetRequest16sp2"


def create(link: SiteLink, action: Action) -> None:
    values = action.values()
    timer = values.get("recall_timer")
    name = InstanceName(action.target.id, values["name"], timer is not None).encode()
    add, _, _, _ = REQUESTS[action.target.type]
    members = [link.user_id(u) for u in values.get("members") or ()]
    fields: dict[str, Any] = {"user_id": members} if members else {}
    if action.target.type == PARK:
        fields["recall_to"] = RECALL_TO
    commands = [
        codec.request(
            add, service_provider_id=link.enterprise, group_id=link.group, name=name, **fields
        )
    ]
    if timer is not None:
        site_timer = _check_timer(action, *_instances(link, PARK, with_timer=True))
        if site_timer != timer:
            commands.append(_set_timer(link, timer))
    link.send(*commands)


def update(link: SiteLink, action: Action) -> None:
    values = action.values()
    park = action.target.type == PARK
    instances, site_timer = _instances(link, action.target.type, with_timer=park)
    current = _find(instances, action)
    timer = values.get("recall_timer", site_timer if current.name.recall else None)
    new = InstanceName(action.target.id, values.get("name", current.name.name), timer is not None)
    commands = []
    if new != current.name:
        commands.append(_modify(link, action, current, new_name=new.encode()))
    if (
        timer is not None
        and "recall_timer" in values
        and _check_timer(action, instances, site_timer) != timer
    ):
        commands.append(_set_timer(link, timer))
    if commands:
        link.send(*commands)


def set_members(link: SiteLink, action: Action) -> None:
    current = _find(_instances(link, action.target.type)[0], action)
    members = list(action.values().get("members") or ())
    user_list = (
        codec.value("ReplacementUserIdList", user_id=[link.user_id(u) for u in members])
        if members
        else codec.NULL
    )
    link.send(_modify(link, action, current, user_id_list=user_list))


def delete(link: SiteLink, action: Action) -> None:
    current = _find(_instances(link, action.target.type)[0], action)
    _, _, remove, _ = REQUESTS[action.target.type]
    link.send(
        codec.request(
            remove, service_provider_id=link.enterprise, group_id=link.group, name=current.text
        )
    )


# -- reading the instances a write needs --------------------------------------------------
@dataclass(frozen=True, slots=True)
class Instance:
    """One pickup or park group as BroadWorks names it."""

    text: str
    name: InstanceName


def _instances(
    link: SiteLink, group_type: str, with_timer: bool = False
) -> tuple[list[Instance], int | None]:
    """The group's instances of this type, and with `with_timer` the site's recall
    timer (one document)."""
    _, _, _, listing = REQUESTS[group_type]
    commands = [codec.request(listing, service_provider_id=link.enterprise, group_id=link.group)]
    if with_timer:
        commands.append(
            codec.request(SITE_TIMER, service_provider_id=link.enterprise, group_id=link.group)
        )
    answers = link.send(*commands)
    timer = int(answers[1].recall_timer_seconds) if with_timer else None
    found = []
    for text in answers[0].name or ():
        name = decode(text)
        if name is not None:
            found.append(Instance(text, name))
    return found, timer


def _find(instances: list[Instance], action: Action) -> Instance:
    for instance in instances:
        if instance.name.id == action.target.id:
            return instance
    label = action.target.type.replace("_", " ")
    raise NotFoundError(f"no {label} {action.target.id} in BroadWorks group")


def _check_timer(action: Action, instances: list[Instance], site_timer: int | None) -> int | None:
    """The site's recall timer, after refusing a timer the other park groups do not share."""
    wanted = action.values()["recall_timer"]
    others = sorted(i.name.id for i in instances if i.name.recall and i.name.id != action.target.id)
    before = next((c.before for c in action.changes if c.field == "recall_timer"), None)
    if others and site_timer != wanted and before != site_timer:
        raise RefusedError(
            "ocip-recall-timer",
            f"BroadWorks keeps one call park recall timer per site: call park group(s) "
            f"{', '.join(others)} recall after {site_timer} s; give every call park group "
            f"that sets recall_timer the same value",
        )
    return site_timer


def _set_timer(link: SiteLink, timer: int) -> Any:
    return codec.request(
        "GroupCallParkModifyRequest",
        service_provider_id=link.enterprise,
        group_id=link.group,
        recall_timer_seconds=timer,
    )


def _modify(link: SiteLink, action: Action, current: Instance, **fields: Any) -> Any:
    _, modify, _, _ = REQUESTS[action.target.type]
    return codec.request(
        modify,
        service_provider_id=link.enterprise,
        group_id=link.group,
        name=current.text,
        **fields,
    )
