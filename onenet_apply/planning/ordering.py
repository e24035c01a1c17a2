"""Ordering a plan: the dependency graph, the order, and statuses that follow from it.

Edges (an action follows another) come from the platform's rules (docs/domain.md):
- a number, extension or username is taken only after its holder gives it up
  (its delete or its own change): deletes free values before creates reuse them;
- a user leaves its old pickup or park group before joining a new one, and
  leaves every group before it is deleted;
- where the site owns a limited number of a licence and too few are free,
  actions that free one come before actions that use it, and what cannot fit
  even then is blocked with the counts;
- a group is deleted only after the references to its number are gone;
- a call centre's edition goes up only after agents leaving it are out (an agent
  without the option the new edition needs would be refused), and down before
  agents who meet only the lower edition join.

Swaps (A takes B's number while B takes A's) are cycles, broken in `swaps`; an
agent list write that lets the holder of the only free agent licence go and takes
its successor in is a cycle too, broken by letting the leavers go first.
The order is graphlib's, ties broken by kind then id, so plans are stable.
Finally an action that waits on one held further back is held as far.
"""

from __future__ import annotations

from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from itertools import repeat
from typing import Any

from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.plan import Action, Change, Kind, Status
from onenet_apply.model.spec import SiteSpec
from onenet_apply.model.state import SiteState
from onenet_apply.model.vocabulary import ONE_PER_USER_TYPES, SECTION_OF
from onenet_apply.planning import licences, references, swaps
from onenet_apply.planning.draft import HOLD_RANK, Created, Draft

KIND_RANK = {
    Kind.ACTIVATION_FAILED: -1,  # what needs a human comes first
    Kind.DELETE: 0,
    Kind.CREATE: 1,
    Kind.UPDATE_PROFILE: 2,
    Kind.UPDATE_CONFIG: 3,
    Kind.DEACTIVATE: 4,
    Kind.REACTIVATE: 5,
    Kind.UPDATE: 6,
    Kind.SET_MEMBERS: 7,
}
TYPE_RANK = {name: rank for rank, name in enumerate(SECTION_OF)}  # users first


class PlanError(Exception):
    """The planner cannot order the changes (a bug, or an impossible site)."""


def order(
    drafts: list[Draft], spec: SiteSpec, state: SiteState, catalogue: Catalogue
) -> list[Draft]:
    if not drafts:  # the site matches: nothing to order, nor who holds what to learn
        return drafts
    holders = swaps.holders(state)
    temps = swaps.Temporaries(spec, state)
    drafts = swaps.break_swaps(drafts, holders, temps)
    drafts = _split_group_moves(drafts)
    # the planner's own edges (few drafts have any), for a new pass after a split
    own_deps = {d.id: set(d.deps) for d in drafts if d.deps}
    circled: set[str] = set()  # deletions pointing at each other's numbers, blocked
    for attempt in range(len(drafts) + 1):
        if attempt:
            for draft in drafts:
                draft.deps.clear()
                draft.deps |= own_deps.get(draft.id, set())
        by_id = {d.id: d for d in drafts}
        _claim_edges(drafts, holders, state)
        _membership_edges(drafts)
        _policy_edges(drafts)
        _agent_edges(drafts, state, catalogue)
        _edition_edges(drafts, spec, catalogue)
        licences.licence_edges(drafts, spec, state)
        references.reference_edges(drafts, state, circled)
        _leave_before_delete(drafts)  # last: it must see every other edge
        for draft in drafts:
            if draft.deps:  # a dependency on an action not planned is satisfied
                draft.deps = {d for d in draft.deps if d in by_id and d != draft.id}
        try:
            return _toposort(drafts, by_id)
        except CycleError as e:
            split = swaps.split_for(e.args[1], by_id)
            if split is not None:
                drafts, numbers = swaps.split_config(drafts, split)
                own_deps[numbers.id] = set(own_deps.get(split.id, ()))
            elif (agents := licences.agents_leaving_in(e.args[1], by_id)) is not None:
                drafts, leave = licences.split_agents_leaving(drafts, agents)
                own_deps[leave.id] = set()
                own_deps.setdefault(agents.id, set()).add(leave.id)
            elif references.block_circle(e.args[1], by_id, circled):
                continue  # ordered again without the circle's edges
            elif (trade := licences.option_trade_in(e.args[1], by_id)) is not None:
                drafts, drop = licences.split_option_drop(drafts, trade)
                own_deps[drop.id] = set(own_deps.get(trade.id, ()))
                own_deps.setdefault(trade.id, set()).add(drop.id)
            elif not licences.block_licence_trade(e.args[1], by_id, spec, state):
                raise PlanError(
                    f"the changes depend on each other in a circle: {e.args[1]}"
                ) from None
    raise PlanError("the changes could not be put in order")


def freeze(draft: Draft) -> Action:
    return Action(
        id=draft.id,
        kind=draft.kind,
        target=draft.target,
        changes=_frozen_changes(draft.changes),
        status=draft.status,
        reason=draft.reason,
        follows=tuple(sorted(draft.deps)),
        needs=draft.needs,
        notes=tuple(draft.notes),
    )


def _frozen_changes(changes: dict[str, tuple[Any, Any]] | Created) -> tuple[Change, ...]:
    if isinstance(changes, Created):  # its pairs are not stored: none to unpack
        return tuple(map(Change, changes.values, repeat(None), changes.values.values()))
    return tuple(Change(k, b, a) for k, (b, a) in changes.items())


def _claim_edges(drafts: list[Draft], holders: dict[str, dict[str, str]], state: SiteState) -> None:
    releasing = swaps.releasers(drafts)
    for draft in drafts:
        for namespace, value in draft.claims.items():
            key = swaps.key(namespace, value)
            holder = holders[namespace].get(key)
            if holder is None or holder == draft.entity:
                continue
            release = releasing.get((namespace, key))
            if release is not None:
                draft.deps.add(release.id)
            else:
                draft.hold(
                    Status.BLOCKED,
                    f"{namespace} {value} is held by {holder}, which "
                    f"keeps it{_why_kept(holder, state)}",
                )


def _why_kept(holder: str, state: SiteState) -> str:
    kind, ident = holder.split("/", 1)
    current = state.section(kind).get(ident)
    if current is not None and current.lifecycle == "failed":
        return " (its activation failed: contact the One Net Business team)"
    return " (it is not managed by this site file)"


# -- other rules ---------------------------------------------------------------------------------


def _split_group_moves(drafts: list[Draft]) -> list[Draft]:
    """Users trading pickup (or park) groups: each list write would wait for the other.
    A write that lets someone go to another group and takes someone in from one first
    writes the list without its leavers (a removal-only step), breaking the circle."""
    joins: dict[tuple[str, str], str] = {}  # (type, user) -> group joined
    for draft in drafts:
        if draft.kind is Kind.SET_MEMBERS and draft.target.type in ONE_PER_USER_TYPES:
            before, after = draft.changes.get("members", ([], []))
            for uid in set(after or ()) - set(before or ()):
                joins[(draft.target.type, uid)] = draft.target.id
    out: list[Draft] = []
    for draft in drafts:
        if (
            draft.kind is Kind.SET_MEMBERS
            and draft.target.type in ONE_PER_USER_TYPES
            and (draft.status is Status.READY)
        ):
            before, after = (list(v or ()) for v in draft.changes.get("members", ([], [])))
            staying, had = set(after), set(before)  # sets: a list may hold thousands
            gone = [u for u in before if u not in staying]
            came = [u for u in after if u not in had]
            moves_out = any(
                joins.get((draft.target.type, u), draft.target.id) != draft.target.id for u in gone
            )
            if gone and came and moves_out:
                kept = [u for u in before if u in staying]
                leave = Draft(
                    Kind.SET_MEMBERS, draft.target, {"members": (before, kept)}, suffix="-leave"
                )
                leave.notes.append("first let members go to their new group")
                draft.changes["members"] = (kept, after)
                draft.deps.add(leave.id)
                out.append(leave)
        out.append(draft)
    return out


def _policy_edges(drafts: list[Draft]) -> None:
    """Weights must cover the members whenever the policy is weighted: switching to
    weighted writes the weights first, switching away changes the policy first."""
    lists = {
        d.target: d
        for d in drafts
        if d.kind is Kind.SET_MEMBERS and d.target.type == "hunt_group" and not d.suffix
    }
    for draft in drafts:
        if draft.kind is not Kind.UPDATE or "policy" not in draft.changes:
            continue
        write = lists.get(draft.target)
        if write is None:
            continue
        before, after = draft.changes["policy"]
        if after == "weighted":
            draft.deps.add(write.id)
        elif before == "weighted":
            write.deps.add(draft.id)


def _leaving(drafts: list[Draft]) -> dict[tuple[str, str], list[Draft]]:
    """(group type, user id) -> the list writes that take the user out of a group."""
    leaving: dict[tuple[str, str], list[Draft]] = defaultdict(list)
    for draft in drafts:
        if draft.kind is not Kind.SET_MEMBERS:
            continue
        for role, (before, after) in draft.changes.items():
            if role != "weights":
                for uid in set(before or ()) - set(after or ()):
                    leaving[(draft.target.type, uid)].append(draft)
    return leaving


def _membership_edges(drafts: list[Draft]) -> None:
    """Leave a pickup/park group before joining another of the same kind."""
    leaving = _leaving(drafts)
    for draft in drafts:
        if draft.kind is not Kind.SET_MEMBERS or draft.target.type not in ONE_PER_USER_TYPES:
            continue
        before, after = draft.changes.get("members", ([], []))
        for uid in set(after or ()) - set(before or ()):
            for other in leaving.get((draft.target.type, uid), ()):
                if other.target != draft.target:
                    draft.deps.add(other.id)
    _join_before_deactivation(drafts)


def _leave_before_delete(drafts: list[Draft]) -> None:
    """A user leaves its groups before it is deleted, unless that would close a circle
    (the list write waits for a user who takes the deleted one's number): the platform
    removes a deleted user from every group itself, so then the delete may go first."""
    by_id = {d.id: d for d in drafts}
    leaving = _leaving(drafts)
    for draft in drafts:
        if draft.kind is not Kind.DELETE or draft.target.type != "user":
            continue
        for (_, uid), removals in sorted(leaving.items()):
            if uid != draft.target.id:
                continue
            for removal in removals:
                if removal.status is Status.READY and not _reaches(removal, draft.id, by_id):
                    draft.deps.add(removal.id)


def _reaches(start: Draft, goal: str, by_id: dict[str, Draft]) -> bool:
    seen: set[str] = set()
    stack = [start.id]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node in seen or node not in by_id:
            continue
        seen.add(node)
        stack.extend(by_id[node].deps)
    return False


def _join_before_deactivation(drafts: list[Draft]) -> None:
    """A deactivated user is kept in hunt groups and call centres but cannot be added:
    a user joining one in the same plan as its deactivation joins first."""
    deactivations = {d.target.id: d for d in drafts if d.kind is Kind.DEACTIVATE}
    if not deactivations:
        return
    for draft in drafts:
        if draft.kind is not Kind.SET_MEMBERS or draft.target.type not in (
            "hunt_group",
            "call_centre",
        ):
            continue
        for role, (before, after) in draft.changes.items():
            if role == "weights":
                continue
            for uid in set(after or ()) - set(before or ()):
                if uid in deactivations:
                    deactivations[uid].deps.add(draft.id)


def _agent_edges(drafts: list[Draft], state: SiteState, levels: Catalogue) -> None:
    """An agent keeps the option its call centre needs until it has left the centre
    (or the centre is gone or downgraded); the levels are the backend catalogue's."""
    centres: dict[str, list[Draft]] = defaultdict(list)  # centre -> what frees its agents
    for draft in drafts:
        failed_marker = draft.kind is Kind.ACTIVATION_FAILED
        if draft.target.type == "call_centre" and (
            draft.kind is Kind.DELETE
            or "edition" in draft.changes
            or "agents" in draft.changes
            or failed_marker  # a failed centre keeps its agents: their options must stay
        ):
            centres[draft.target.id].append(draft)
    for draft in drafts:
        options = draft.changes.get("options")
        if draft.kind is not Kind.UPDATE_CONFIG or options is None:
            continue
        before, after = (tuple(v or ()) for v in options)
        if levels.agent_level(after) >= levels.agent_level(before):
            continue
        uid = draft.target.id
        for cid, current in state.call_centres.items():
            if uid not in current.item.agents:
                continue
            for centre in centres.get(cid, ()):
                agents = centre.changes.get("agents")
                if agents is None or (uid in (agents[0] or ()) and uid not in (agents[1] or ())):
                    draft.deps.add(centre.id)


def _edition_edges(drafts: list[Draft], spec: SiteSpec, catalogue: Catalogue) -> None:
    """A call centre's edition goes up after the list writes that take agents out: one
    leaving may lack the option the higher edition needs. It goes down before the list
    writes that take in an agent whose option meets only the lower edition."""
    levels = catalogue.edition_levels
    removals: dict[str, list[Draft]] = defaultdict(list)
    joins: dict[str, list[tuple[Draft, set[str]]]] = defaultdict(list)
    for draft in drafts:
        agents = draft.changes.get("agents")
        if draft.kind is Kind.SET_MEMBERS and agents and set(agents[0] or ()) - set(agents[1]):
            removals[draft.target.id].append(draft)
        if draft.kind is Kind.SET_MEMBERS and agents and set(agents[1]) - set(agents[0] or ()):
            joins[draft.target.id].append((draft, set(agents[1]) - set(agents[0] or ())))
    for draft in drafts:
        edition = draft.changes.get("edition")
        if draft.target.type != "call_centre" or draft.kind is not Kind.UPDATE or not edition:
            continue
        before, after = edition
        if levels[after] > levels[before]:
            draft.deps.update(d.id for d in removals.get(draft.target.id, ()))
            continue
        for write, joining in joins.get(draft.target.id, ()):
            if any(
                catalogue.agent_level(spec.users[uid].options) < levels[before]
                for uid in joining
                if uid in spec.users
            ):
                write.deps.add(draft.id)


# -- order and statuses ---------------------------------------------------------------------------


def _rank(draft: Draft) -> tuple[Any, ...]:
    return (KIND_RANK[draft.kind], TYPE_RANK[draft.target.type], draft.target.id, draft.id)


def _toposort(drafts: list[Draft], by_id: dict[str, Draft]) -> list[Draft]:
    """graphlib's order (rounds of actions whose dependencies all ran, each sorted by the
    unique `_rank`) without its bookkeeping; a circle is graphlib's to name (CycleError)."""
    waiting = {draft.id: len(draft.deps) for draft in drafts}
    followers: dict[str, list[Draft]] = {}
    for draft in drafts:
        for dep in draft.deps:
            followers.setdefault(dep, []).append(draft)
    ready = [draft for draft in drafts if not draft.deps]
    ordered: list[Draft] = []
    while ready:
        ready.sort(key=_rank)
        ordered.extend(ready)
        released: list[Draft] = []
        for done in ready:
            for follower in followers.get(done.id, ()):
                left = waiting[follower.id] - 1
                waiting[follower.id] = left
                if not left:
                    released.append(follower)
        ready = released
    if len(ordered) != len(drafts):
        _raise_cycle(drafts)
    return ordered


def _raise_cycle(drafts: list[Draft]) -> None:
    """graphlib's CycleError for a graph known to hold a circle."""
    sorter = TopologicalSorter({draft.id: sorted(draft.deps) for draft in drafts})
    sorter.prepare()  # raises CycleError
    raise PlanError("the changes depend on each other in a circle")


def propagate(ordered: list[Draft]) -> None:
    """An action waiting on one that will not run now cannot run now either; and one
    waiting on a blocked (or gated) action is blocked (or gated) too, however long it
    would wait anyway: a human must act first."""
    by_id = {d.id: d for d in ordered}
    for draft in ordered:  # in order: what it waits for has its final status already
        worst = max(
            (by_id[dep_id] for dep_id in sorted(draft.deps)),
            key=lambda dep: HOLD_RANK[dep.status],
            default=None,
        )
        if worst is not None and HOLD_RANK[worst.status] > HOLD_RANK[draft.status]:
            # it shares the fate of what it waits for: deferred, gated or blocked alike
            draft.hold(worst.status, f"waits for {worst.id} ({worst.status}: {worst.reason})")
    _hold_weights_for_policy(ordered)


def _hold_weights_for_policy(ordered: list[Draft]) -> None:
    """Weights written ahead of a switch to weighted take effect only with it: the
    platform shows none while the policy is circular. When the switch cannot run now,
    a write of weights alone waits as long (else every plan would write them again)."""
    writes = {
        d.target: d
        for d in ordered
        if d.kind is Kind.SET_MEMBERS and d.target.type == "hunt_group" and not d.suffix
    }
    for draft in ordered:
        policy = draft.changes.get("policy")
        write = writes.get(draft.target)
        if draft.kind is not Kind.UPDATE or not policy or policy[1] != "weighted" or not write:
            continue
        before, after = write.changes.get("members", (None, None))
        if draft.status is not Status.READY and before == after:
            write.hold(draft.status, f"its weights take effect with {draft.id} ({draft.reason})")
