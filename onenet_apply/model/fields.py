"""Users and groups as flat field dictionaries: what the planner diffs and actions carry.

Values are JSON-friendly (lists, dicts, strings, numbers), so the same dictionary
serves the diff, the plan file and the backend.
"""

from __future__ import annotations

from typing import Any

from onenet_apply.model.spec import CallCentre, CallParkGroup, CallPickupGroup, HuntGroup, User
from onenet_apply.model.vocabulary import GROUPS

# every field of a group's record, and the member-list fields of a list write
GROUP_SETTINGS = {
    g.name: ("name", *(("number", "extension") if g.numbered else ()), *g.settings)
    for g in GROUPS.values()
}
GROUP_LISTS = {g.name: g.lists for g in GROUPS.values()}


def user_fields(user: User) -> dict[str, Any]:
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "services": list(user.services),
        "username": user.username,
        "number": user.number,
        "extension": user.extension,
        "desk_phone": user.desk_phone,
        "package": user.package,
        "options": list(user.options),
        "mobile": {"number": user.mobile.number, "contract": user.mobile.contract}
        if user.mobile
        else None,
    }


def deactivation_fields(user: User) -> dict[str, Any] | None:
    if user.deactivation is None:
        return None
    return {"transfer_to": user.deactivation.transfer_to, "caller": user.deactivation.caller}


Group = HuntGroup | CallCentre | CallPickupGroup | CallParkGroup


def group_fields(group_type: str, group: Group) -> dict[str, Any]:
    """Settings and member lists of a group, by field name."""
    out: dict[str, Any] = {"name": group.name}
    if isinstance(group, HuntGroup):
        no_answer = group.no_answer
        out.update(
            number=group.number,
            extension=group.extension,
            policy=group.policy,
            no_answer={
                "rings": no_answer.rings,
                "forward_to": no_answer.forward_to,
                "timeout": no_answer.timeout,
            }
            if no_answer
            else None,
            members=list(group.members),
            weights=dict(sorted(group.weights.items())),
        )
    elif isinstance(group, CallCentre):
        out.update(
            number=group.number,
            extension=group.extension,
            edition=group.edition,
            agents=list(group.agents),
            supervisors=list(group.supervisors),
        )
    elif isinstance(group, CallParkGroup):
        out.update(recall_timer=group.recall_timer, members=list(group.members))
    else:
        out.update(members=list(group.members))
    return out
