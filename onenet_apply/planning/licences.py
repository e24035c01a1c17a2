"""Licences in the order: where the site owns a limited number of a licence, what
frees one goes before what takes one, circles of trades are cut where a valid
order exists (agents leaving a centre first, options given up first), and what
cannot fit is blocked with the counts. docs/edge-cases.md #9 has the cases.
"""

from __future__ import annotations

from collections import Counter

from onenet_apply.model.plan import Kind, Status
from onenet_apply.model.spec import SiteSpec
from onenet_apply.model.state import SiteState
from onenet_apply.planning.draft import Draft


def licence_edges(drafts: list[Draft], spec: SiteSpec, state: SiteState) -> None:
    """docs/edge-cases.md #9. Where the site owns a limited number of a licence (as the backend
    says; else as the site file declares), what fits in the free licences goes now,
    what fits once others are freed waits for every action that frees one, and what
    does not fit at all is blocked with the counts."""
    owned = {**spec.site.licences, **state.licences}
    if not owned:
        return
    in_use: Counter[str] = Counter()
    for current in state.users.values():
        in_use.update({current.item.package, *current.item.options})
    for name, limit in sorted(owned.items()):
        # a change trading one licence for another frees one for others: it goes first
        adding = sorted(
            (d for d in drafts if name in d.licences_added), key=lambda d: not d.licences_removed
        )
        free = limit - in_use[name]
        if len(adding) <= free:
            continue  # enough free licences: nothing waits
        freeing = [d.id for d in drafts if name in d.licences_removed]
        needed = in_use[name] + len(adding) - len(freeing)
        for index, draft in enumerate(adding):
            if index < free or draft.status is Status.BLOCKED:
                continue  # goes now, or never: it waits for nothing
            if index < free + len(freeing):
                draft.deps.update(freeing)
            else:
                draft.hold(
                    Status.BLOCKED,
                    f"needs {needed} {name} licences, the site owns {limit}",
                )


def agents_leaving_in(cycle: list[str], by_id: dict[str, Draft]) -> Draft | None:
    """A call centre's agent list write in the circle that lets agents go and takes
    others in: one leaving may hold the agent licence one joining needs, which it
    frees only once out (the agent rule), while the joining one waits for that licence."""
    for draft_id in sorted(set(cycle)):
        draft = by_id[draft_id]
        before, after = (set(v or ()) for v in draft.changes.get("agents", ((), ())))
        if draft.kind is Kind.SET_MEMBERS and before - after and after - before:
            return draft
    return None


def split_agents_leaving(drafts: list[Draft], whole: Draft) -> tuple[list[Draft], Draft]:
    """The agents who leave go first, in a write of the agents who stay (always allowed:
    they meet the edition already); the whole list follows. Both stay as held as the
    whole was (a pending centre's lists wait for its activation alike)."""
    before, after = (list(v or ()) for v in whole.changes["agents"])
    staying = set(after)  # a set: a centre may have thousands of agents
    kept = [u for u in before if u in staying]
    whole.changes["agents"] = (kept, after)
    note = "first let agents go, freeing their agent licences"
    return _step_before(drafts, whole, {"agents": (before, kept)}, "-leave", note)


def option_trade_in(cycle: list[str], by_id: dict[str, Draft]) -> Draft | None:
    """A user's change in the circle that drops an option another change in it takes:
    users trading options while every licence is in use wait for each other."""
    members = [by_id[i] for i in sorted(set(cycle))]
    for draft in members:
        before, after = (set(v or ()) for v in draft.changes.get("options", ((), ())))
        dropped = (before - after) & draft.licences_removed
        more = after - before or set(draft.changes) - {"options"}  # else it is all a drop
        if (
            draft.kind is Kind.UPDATE_CONFIG
            and more
            and any(dropped & other.licences_added for other in members if other is not draft)
        ):
            return draft
    return None


def split_option_drop(drafts: list[Draft], whole: Draft) -> tuple[list[Draft], Draft]:
    """A user holds no option it does not need in between: the options it gives up go
    first, freeing their licences, and the rest of its change follows."""
    before, after = (list(v or ()) for v in whole.changes["options"])
    kept = [o for o in before if o in after]
    whole.changes["options"] = (kept, after)
    if kept == after:
        del whole.changes["options"]
    dropped = frozenset(before) - frozenset(after)
    whole.licences_removed -= dropped
    note = "first give up options, freeing their licences for others"
    changes = {"options": (before, kept)}
    return _step_before(drafts, whole, changes, "-drop", note, licences_removed=dropped)


def _step_before(
    drafts: list[Draft],
    whole: Draft,
    changes: dict[str, tuple[list[str], list[str]]],
    suffix: str,
    note: str,
    **extra: frozenset[str],
) -> tuple[list[Draft], Draft]:
    """A first step of `whole`, placed before it and held as it is (a pending
    centre's lists wait for its activation alike)."""
    step = Draft(
        whole.kind,
        whole.target,
        dict(changes),
        suffix=whole.suffix + suffix,
        status=whole.status,
        reason=whole.reason,
        needs=whole.needs,
        **extra,
    )
    step.notes.append(note)
    index = drafts.index(whole)
    return [*drafts[:index], step, *drafts[index:]], step


def block_licence_trade(
    cycle: list[str], by_id: dict[str, Draft], spec: SiteSpec, state: SiteState
) -> bool:
    """Users trading packages (a user always holds one, so none can go first) while
    every licence is in use: each change waits for the other to free one. The first
    is blocked (and the others with it); False when the circle is not one of licences."""
    owned = {**spec.site.licences, **state.licences}
    members = [by_id[i] for i in sorted(set(cycle))]
    for draft in members:
        for name in sorted(draft.licences_added & owned.keys()):
            if any(name in other.licences_removed for other in members if other is not draft):
                draft.hold(
                    Status.BLOCKED,
                    f"needs a {name} licence, and all {owned[name]} the site owns are in "
                    f"use until changes that wait for this one are done: one more {name} "
                    "licence lets them pass",
                )
                return True
    return False
