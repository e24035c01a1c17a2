"""Forwards and transfers to a group's number, in the order of a plan (docs/edge-cases.md #10).

The platform refuses to delete a group while a hunt group forwards, or a deactivated
user transfers, to its number. What stays pointing there blocks the deletion (the
planner's `_references`); what this plan stops pointing there goes first: a change
of the forward or transfer, or the deletion of the hunt group or user itself. Hunt
groups deleted together while each forwards to another's number wait on each other
in a circle: all of them are blocked, for a person to take one forward away first.
"""

from __future__ import annotations

from onenet_apply.model.plan import Kind, Status
from onenet_apply.model.state import SiteState
from onenet_apply.model.vocabulary import ACTIVATED_GROUP_TYPES
from onenet_apply.planning.draft import Draft


def reference_edges(drafts: list[Draft], state: SiteState, circled: set[str]) -> None:
    """A group's deletion follows what stops others pointing at its number; the
    deletions in `circled` (a circle already blocked) are left unordered."""
    numbers = {}
    for draft in drafts:
        if draft.kind is Kind.DELETE and draft.target.type in ACTIVATED_GROUP_TYPES:
            numbers[state.section(draft.target.type)[draft.target.id].item.number] = draft
    if not numbers:
        return
    for draft in drafts:
        stops = _referenced(draft, 0) - _referenced(draft, 1)
        if draft.kind is Kind.DELETE and draft.id not in circled:
            stops |= _pointed_at(draft, state)
        for number in stops:
            deletion = numbers.get(number)
            if deletion is not None and deletion is not draft:
                deletion.deps.add(draft.id)


def block_circle(cycle: list[str], by_id: dict[str, Draft], circled: set[str]) -> bool:
    """Block a circle of hunt group deletions that forward to each other's numbers
    (graphlib's `cycle`), adding them to `circled`; False when the circle is of another
    kind. (A user's deletion never waits on a forward to its number: no circle.)"""
    drafts = [by_id[i] for i in dict.fromkeys(cycle)]
    if not all(d.kind is Kind.DELETE and d.target.type == "hunt_group" for d in drafts):
        return False
    for draft in drafts:
        others = ", ".join(str(d.target) for d in drafts if d is not draft)
        draft.hold(
            Status.BLOCKED,
            f"deleted with {others}, each forwarding or transferring to another's number: "
            "take one forward or transfer away first",
        )
    circled.update(d.id for d in drafts)
    return True


def _referenced(draft: Draft, side: int) -> set[str]:
    """The numbers a change points at before (side 0) or after (side 1) it."""
    out = set()
    no_answer = draft.changes.get("no_answer")
    if no_answer and no_answer[side]:
        out.add(no_answer[side].get("forward_to"))
    deactivation = draft.changes.get("deactivation")
    if deactivation and deactivation[side]:
        out.add(deactivation[side].get("transfer_to"))
    return out


def _pointed_at(deletion: Draft, state: SiteState) -> set[str]:
    """The number a deleted hunt group forwards, or a deleted user transfers, to now."""
    current = state.section(deletion.target.type)[deletion.target.id].item
    if deletion.target.type == "hunt_group" and current.no_answer:
        return {current.no_answer.forward_to}
    if deletion.target.type == "user" and current.deactivation:
        return {current.deactivation.transfer_to}
    return set()
