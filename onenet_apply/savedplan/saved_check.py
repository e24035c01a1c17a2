"""Is a saved plan still exactly what the planner derives now?

Apply plans again from the saved plan's own site content, the current state and
the recorded options, and runs a saved ready action only if the planner gives
the same action now: same id, kind, target and changes, ready, and following
nothing that the saved plan does not run. Statuses and gates are therefore
re-derived, never taken from the file.

The site may have moved in between: an activation or change of an object the
plan does not touch leaves its actions as they were, and the plan still applies.
When a saved action no longer comes out the same, the plan is refused: stale if
the site changed since the plan was made, tampered if the site is exactly as it
was (then the plan's actions disagree with its own content).
"""

from __future__ import annotations

from typing import Any

from onenet_apply.model.digest import plain, state_digest
from onenet_apply.model.fields import group_fields, user_fields
from onenet_apply.model.plan import Action, Kind, Plan, Status
from onenet_apply.model.state import SiteState
from onenet_apply.planning.render import value
from onenet_apply.savedplan.plan_file import REMAKE, TamperedPlanError

SHOWN = 10  # reasons named in a refusal; the rest are counted


class StalePlanError(Exception):
    """The site changed since the saved plan was made, under the plan's actions."""


def runnable(saved: Plan, current: Plan, state: SiteState) -> list[Action]:
    """The saved plan's ready actions, in the order the planner gives now; or raise
    StalePlanError / TamperedPlanError naming what no longer matches."""
    unmoved = state_digest(state) == saved.state_digest
    now = {a.id: a for a in current.actions}
    run = {a.id for a in saved.ready}
    ends = _reviewed_ends(saved)
    if unmoved:  # the same inputs give the same plan: every difference is an edit
        reasons = _differences(saved, current) if not _same(current, saved) else []
    else:
        reasons = [r for a in saved.ready if (r := _mismatch(a, now.get(a.id), run, ends))]
    if reasons and unmoved:
        raise TamperedPlanError(
            f"tampered plan: its actions are not what its own site content gives: "
            f"{_join(reasons)}; {REMAKE}"
        )
    if reasons:
        moved = [a for a in saved.ready if _mismatch(a, now.get(a.id), run, ends)]
        changed = what_changed(moved, state)
        raise StalePlanError(
            f"stale plan: site {saved.site} changed since the plan was made: "
            f"{_join(changed or reasons)}; run onenet plan again and review the new plan"
        )
    return [a for a in current.actions if a.id in run]


def _reviewed_ends(saved: Plan) -> dict[tuple[str, str], Any]:
    """Where the saved plan takes each field of each object: the value its last
    action on that field leaves (a member list written now and completed by a
    deferred `set-members-later` ends at the completed list)."""
    ends: dict[tuple[str, str], Any] = {}
    for action in saved.actions:
        for change in action.changes:
            ends[(str(action.target), change.field)] = change.after
    return ends


def _sooner(now: Action, saved: Action, ends: dict[tuple[str, str], Any]) -> bool:
    """Does the planner's action now reach, from the same values, what the reviewer
    approved for later? Members whose activation arrived since join at once."""
    mine = {c.field: c for c in now.changes}
    theirs = {c.field: c for c in saved.changes}
    return mine.keys() == theirs.keys() and all(
        _same(mine[f].before, theirs[f].before)
        and (
            _same(mine[f].after, theirs[f].after)
            or _same(mine[f].after, ends.get((str(saved.target), f)))
        )
        for f in mine
    )


def _mismatch(
    saved: Action, now: Action | None, run: set[str], ends: dict[tuple[str, str], Any]
) -> str | None:
    """Why the planner's action now is not the saved ready one, or None if it is."""
    if now is None:
        return f"{saved.id} is no longer planned"
    if not _same((now.kind, now.target), (saved.kind, saved.target)):
        return f"{saved.id} is now a {now.kind} of {now.target}"
    if not _same(now.changes, saved.changes) and not _sooner(now, saved, ends):
        return f"{saved.id} now differs in {_differing(now, saved)}"
    if now.status is not Status.READY:
        return f"{saved.id} is {_status(now)} now"
    unseen = [f for f in now.follows if f not in run]
    if unseen:
        return f"{saved.id} must now follow {', '.join(unseen)}, which the plan does not run"
    return None


def _status(action: Action) -> str:
    """The action's status, with its reason when it has one."""
    return f"{action.status} ({action.reason})" if action.reason else str(action.status)


def _differences(saved: Plan, current: Plan) -> list[str]:
    now = {a.id: a for a in current.actions}
    ids = {a.id for a in saved.actions}
    out = []
    for action in saved.actions:
        there = now.get(action.id)
        if there is None:
            out.append(f"{action.id} is not planned")
        elif not _same(there, action):
            if there.status is not action.status:
                out.append(f"{action.id} is {_status(there)}, the plan says {action.status}")
            elif not _same(there.changes, action.changes):
                out.append(f"{action.id} differs in {_differing(there, action)}")
            else:
                out.append(f"{action.id} differs in its reason, needs, follows or notes")
    out += [f"{a.id} is missing" for a in current.actions if a.id not in ids]
    if not out:  # same actions: the order, warnings or digests differ
        out.append("the plan's order, warnings or digests differ")
    return out


def _same(now: Any, saved: Any) -> bool:
    """Equal as the plan file holds them (a tuple of the planner is a list in JSON)."""
    return bool(now == saved or plain(now) == plain(saved))


def _differing(now: Action, saved: Action) -> str:
    """The fields whose change is not the same in both, in words."""
    mine = {c.field: c for c in now.changes}
    theirs = {c.field: c for c in saved.changes}
    fields = [f for f in {**mine, **theirs} if not _same(mine.get(f), theirs.get(f))]
    return ", ".join(fields) or "the order of its changes"


def _join(reasons: list[str]) -> str:
    text = "; ".join(reasons[:SHOWN])
    return text + (f"; and {len(reasons) - SHOWN} more" if len(reasons) > SHOWN else "")


def what_changed(actions: list[Action], state: SiteState) -> list[str]:
    """The objects of these actions that no longer look as the plan expected, in words."""
    out: list[str] = []
    for action in actions:
        target = action.target
        current = state.section(target.type).get(target.id)
        if action.kind is Kind.CREATE:
            if current is not None and action.changes:
                out.append(f"{target} now exists")
            continue
        if current is None:
            out.append(f"{target} is gone")
            continue
        fields = (
            user_fields(current.item)
            if target.type == "user"
            else group_fields(target.type, current.item)
        )
        for change in action.changes:
            if change.field in fields and fields[change.field] != change.before:
                out.append(
                    f"{target} {change.field} is now {value(fields[change.field])}, "
                    f"the plan expected {value(change.before)}"
                )
    return list(dict.fromkeys(out))
