"""Swaps: changes that each wait for another to give up a value (docs/edge-cases.md #1).

Two users trading numbers (or extensions, or usernames) form a cycle of hand-overs
that no order satisfies. One side first parks on a free temporary value: a pool
number, an unused extension, an unused username. A change that both hands over
a number and changes more can also close a circle with other rules (a user's
options with call centre rules, licences, a hunt group's policy with its weights
written before it); it is split into its numbers part and the rest.
"""

from __future__ import annotations

from collections import defaultdict

from onenet_apply.model.numbering import NumberPool, parse_pool_entry
from onenet_apply.model.phone import InvalidNumber
from onenet_apply.model.plan import Kind, Status
from onenet_apply.model.spec import SiteSpec
from onenet_apply.model.state import SiteState
from onenet_apply.model.vocabulary import ACTIVATED_GROUP_TYPES
from onenet_apply.planning.draft import CLAIMED, Draft

TEMPORARY = "-temporary"  # the suffix of a swap's first step: a value held only in between


def holders(state: SiteState) -> dict[str, dict[str, str]]:
    """namespace -> value -> entity holding it on the platform now."""
    holders: dict[str, dict[str, str]] = {ns: {} for ns in CLAIMED}
    for uid, current in state.users.items():
        user = current.item
        holders["number"][user.number] = f"user/{uid}"
        holders["extension"][user.extension] = f"user/{uid}"
        holders["username"][user.username.casefold()] = f"user/{uid}"
    for group_type in ACTIVATED_GROUP_TYPES:  # the numbered ones
        for gid, current in state.section(group_type).items():
            holders["number"][current.item.number] = f"{group_type}/{gid}"
            holders["extension"][current.item.extension] = f"{group_type}/{gid}"
    return holders


def key(namespace: str, value: str) -> str:
    return value.casefold() if namespace == "username" else value


class Temporaries:
    """Free values to park a swap on: never held now, never wanted by the spec."""

    def __init__(self, spec: SiteSpec, state: SiteState) -> None:
        self.spec = spec
        self.taken: dict[str, set[str]] = defaultdict(set)
        for ns, values in holders(state).items():
            self.taken[ns] |= set(values)
        for user in spec.users.values():
            self.taken["number"].add(user.number)
            self.taken["extension"].add(user.extension)
            self.taken["username"].add(user.username.casefold())
        for group in (*spec.hunt_groups.values(), *spec.call_centres.values()):
            self.taken["number"].add(group.number)
            self.taken["extension"].add(group.extension)
        self._pool: NumberPool | None = None

    def take(self, namespace: str, current: str) -> str | None:
        candidate = next(self._candidates(namespace, current), None)
        if candidate is not None:
            self.taken[namespace].add(key(namespace, candidate))
        return candidate

    def none_left(self, namespace: str) -> str:
        """Why a swap cannot move through a temporary value: no pool, or a full one."""
        if namespace == "number" and not self.spec.site.number_pool:
            return (
                "swapping numbers needs a free number to move through, and the site has "
                "no number_pool: add one to site.number_pool"
            )
        if namespace == "number":
            return (
                "swapping numbers needs a free number in site.number_pool "
                "to move through; the pool has none left"
            )
        return f"swapping {namespace}s needs a free {namespace} to move through; none is left"

    def _candidates(self, namespace: str, current: str):
        taken = self.taken[namespace]
        if namespace == "number":
            for number in self._number_pool():
                if number not in taken:
                    yield number
        elif namespace == "extension":
            width = len(current)
            for n in range(10**width - 1, -1, -1):
                value = f"{n:0{width}d}"
                if value not in taken:
                    yield value
        else:
            n = 1
            while True:
                value = f"{current}.swap{n}"
                if value.casefold() not in taken:
                    yield value
                n += 1

    def _number_pool(self) -> NumberPool:
        if self._pool is None:
            ranges = []
            for entry in self.spec.site.number_pool:
                try:
                    ranges.append(parse_pool_entry(entry, self.spec.site.country))
                except InvalidNumber:
                    continue
            self._pool = NumberPool(ranges)
        return self._pool


def releasers(drafts: list[Draft], *, deletes: bool = True) -> dict[tuple[str, str], Draft]:
    """(namespace, value key) -> the action that gives that value up."""
    out: dict[tuple[str, str], Draft] = {}
    for draft in drafts:
        if deletes or draft.kind is not Kind.DELETE:
            for namespace, value in draft.releases.items():
                out[(namespace, key(namespace, value))] = draft
    return out


def break_swaps(
    drafts: list[Draft], holders: dict[str, dict[str, str]], temps: Temporaries
) -> list[Draft]:
    """Split one change of each claim cycle into 'park on a temporary value' + 'take'."""
    while True:
        cycle = find_claim_cycle(drafts, holders)
        if cycle is None:
            return drafts
        first = min(cycle, key=lambda d: d.id)
        park = Draft(
            first.kind,
            first.target,
            {},
            suffix=TEMPORARY,
            needs=first.needs,
            status=first.status,
            reason=first.reason,
        )
        for namespace in [ns for ns in CLAIMED if ns in first.releases]:
            old = first.releases[namespace]
            temp = temps.take(namespace, old)
            if temp is None:
                first.hold(Status.BLOCKED, temps.none_left(namespace))
                first.claims.clear()  # blocked: no longer part of any cycle
                break
            park.changes[namespace] = (old, temp)
            park.releases[namespace] = old
            first.changes[namespace] = (temp, first.changes[namespace][1])
            first.releases[namespace] = temp
        else:
            park.notes.append("temporary value, to swap with another user or group")
            first.deps.add(park.id)
            drafts.insert(drafts.index(first), park)


def find_claim_cycle(drafts: list[Draft], holders: dict[str, dict[str, str]]) -> list[Draft] | None:
    """A cycle of changes each waiting for another to give up a value (depth-first)."""
    releasing = releasers(drafts, deletes=False)  # a delete never waits, so closes no cycle
    if not releasing:  # nothing changes hands (a plan from empty): no one waits
        return None
    waits: dict[str, list[Draft]] = defaultdict(list)
    for draft in drafts:
        for ns, value in sorted(draft.claims.items()):
            value_key = key(ns, value)
            release = releasing.get((ns, value_key))
            if release is None or release is draft:
                continue
            if holders[ns].get(value_key) == release.entity:
                waits[draft.id].append(release)
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in sorted(waits):
        if state.get(start):
            continue
        path: list[str] = [start]
        stack = [iter(sorted(waits[start], key=lambda d: d.id))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(nxt.id) == 1:
                by_id = {d.id: d for d in drafts}
                return [by_id[n] for n in path[path.index(nxt.id) :]]
            if not state.get(nxt.id):
                state[nxt.id] = 1
                path.append(nxt.id)
                stack.append(iter(sorted(waits.get(nxt.id, ()), key=lambda d: d.id)))
    return None


def split_for(cycle: list[str], by_id: dict[str, Draft]) -> Draft | None:
    """A user's configuration change or a group's update in the circle that hands
    over values and changes more."""
    for draft_id in sorted(set(cycle)):
        draft = by_id[draft_id]
        splittable = draft.kind in (Kind.UPDATE_CONFIG, Kind.UPDATE)
        if splittable and draft.claims and set(draft.changes) - set(CLAIMED):
            return draft
    return None


def split_config(drafts: list[Draft], whole: Draft) -> tuple[list[Draft], Draft]:
    """One change becomes two: its numbers, extension and username first, then the
    rest (options, package, phone; a group's policy, name, edition), so each can wait
    for different things."""
    numbers = Draft(
        whole.kind,
        whole.target,
        {k: v for k, v in whole.changes.items() if k in CLAIMED},
        suffix=whole.suffix + "-numbers",
        status=whole.status,
        reason=whole.reason,
        needs=whole.needs,
        claims=whole.claims,
        releases=whole.releases,
    )
    whole.changes = {k: v for k, v in whole.changes.items() if k not in CLAIMED}
    whole.claims, whole.releases = {}, {}
    index = drafts.index(whole)
    return [*drafts[:index], numbers, *drafts[index:]], numbers
