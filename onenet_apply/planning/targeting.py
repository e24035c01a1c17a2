"""A targeted plan (`--target TYPE/ID`): only some objects' actions, and what they need.

The whole plan is made and ordered first, so every rule the planner knows is in
its dependency edges (`Draft.deps`, an action's `follows`). The targeted plan is
the closure of the targeted objects' actions under those edges, plus one rule the
edges do not carry: a swap's temporary step is never left alone, the object's own
step that takes the final value comes with it (else the object would keep a value
nobody asked for). Gates and statuses are then derived on the subset alone.
Every action pulled in carries why, in words, for the plan's reader.
"""

from __future__ import annotations

from collections import deque

from onenet_apply.model.plan import Kind, Target
from onenet_apply.model.spec import SiteSpec
from onenet_apply.model.state import SiteState
from onenet_apply.model.vocabulary import SECTION_OF
from onenet_apply.planning.draft import CLAIMED, Draft
from onenet_apply.planning.ordering import PlanError
from onenet_apply.planning.swaps import TEMPORARY, key


class TargetError(PlanError):
    """A --target that names no object of the site."""


def parse_target(text: str) -> Target:
    """`TYPE/ID` as the site file names an object; ValueError says what is wrong."""
    kind, slash, ident = text.partition("/")
    if kind not in SECTION_OF:
        raise ValueError(
            f"{text!r}: unknown type {kind!r}; the types are {', '.join(SECTION_OF)} "
            "(write TYPE/ID, e.g. user/anna)"
        )
    if not slash or not ident:
        raise ValueError(f"{text!r}: no id after the type (write TYPE/ID, e.g. user/anna)")
    return Target(kind, ident)


def check_targets(targets: tuple[Target, ...], spec: SiteSpec, state: SiteState) -> None:
    """Every target is an object of the site file or of the backend's site."""
    for target in targets:
        if target.id not in getattr(spec, SECTION_OF[target.type]) and target.id not in (
            state.section(target.type)
        ):
            raise TargetError(
                f"--target {target}: no such object in the site file or on the backend"
            )


def select(ordered: list[Draft], targets: tuple[Target, ...]) -> tuple[list[Draft], dict[str, str]]:
    """The targeted actions and everything they need, in plan order; and, for each
    action pulled in, why."""
    by_id = {d.id: d for d in ordered}
    wanted = set(targets)
    pulled: dict[str, str] = {}
    kept = {d.id for d in ordered if d.target in wanted}
    queue = deque(d for d in ordered if d.id in kept)
    while queue:
        draft = queue.popleft()
        needed = [(by_id[i], _why(by_id[i], draft)) for i in sorted(draft.deps) if i in by_id]
        if draft.suffix == TEMPORARY:
            why = f"completes the swap {draft.id} starts"
            needed += [(d, why) for d in _completions(ordered, draft)]
        for other, why in needed:
            if other.id not in kept:
                kept.add(other.id)
                pulled[other.id] = why
                queue.append(other)
    return [d for d in ordered if d.id in kept], pulled


def _completions(ordered: list[Draft], park: Draft) -> list[Draft]:
    return [d for d in ordered if d.target == park.target and park.id in d.deps]


def _why(needed: Draft, needer: Draft) -> str:
    """Why `needer` needs `needed` first, in words."""
    for namespace in CLAIMED:  # numbers first: the value a reader knows the object by
        value, given = needer.claims.get(namespace), needed.releases.get(namespace)
        if (
            value is not None
            and given is not None
            and key(namespace, given) == key(namespace, value)
        ):
            return f"frees {namespace} {value} for {needer.target}"
    licences = sorted(needed.licences_removed & needer.licences_added)
    if licences:
        return f"frees a {licences[0]} licence for {needer.target}"
    if needed.kind is Kind.SET_MEMBERS:
        joining = {needer.target.id} if needer.target.type == "user" else _members(needer, 1)
        leaving = sorted((_members(needed, 0) - _members(needed, 1)) & joining)
        if leaving:
            return f"lets {', '.join(leaving)} leave {needed.target} before {needer.id}"
    if needed.kind is Kind.CREATE and needer.kind is Kind.SET_MEMBERS:
        if needed.target == needer.target:
            return f"creates {needed.target} before its members are written"
        return f"creates {needed.target}, who joins {needer.target}"
    return f"{needer.id} follows it"


def _members(draft: Draft, side: int) -> set[str]:
    """Every user in a list write's lists, before (0) or after (1)."""
    if draft.kind is not Kind.SET_MEMBERS:
        return set()
    return {
        uid
        for role, change in draft.changes.items()
        if role != "weights"
        for uid in (change[side] or ())
    }
