"""The planner's work on member lists grows with the lists, not with their square.

A pickup group may hold a whole site. Its list is compared with the list it had
(who goes, who comes, who stays) and with the groups its members are in; done
with lists, each comparison is a scan, and a plan swapping two groups of 5,000
members took seconds. The tests count the work itself, not the time: member ids
are strings that count their equality comparisons (a list scan makes one per
element passed; a set lookup none, as the hash finds the id), and the unmanaged
patterns count how often they are asked about a group."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import pytest

from benchmarks.sitegen import generate
from onenet_apply.model.plan import Kind, Status, Target
from onenet_apply.model.spec import DEACTIVATED, SiteSpec, frozen_map
from onenet_apply.model.state import SiteState
from onenet_apply.planning import draft as draft_module
from onenet_apply.planning import licences
from onenet_apply.planning.draft import Draft
from tests.planner_kit import run, spec_of, state_of

MEMBERS = 300  # per group: a list scan per member costs 90,000 comparisons, a set none


class CountingId(str):
    """A user id that counts the equality comparisons made with it."""

    __slots__ = ()
    compared: ClassVar[int] = 0

    def __eq__(self, other: object) -> bool:
        CountingId.compared += 1
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        CountingId.compared += 1
        return str.__ne__(self, other)

    __hash__ = str.__hash__


def _site(users: int, section: str, groups: dict[str, list[int]], unmanaged: str = "") -> SiteSpec:
    text = "".join(generate(users, 0))
    if unmanaged:
        text = text.replace("\nsite:\n", f"\nsite:\n  unmanaged: [{unmanaged!r}]\n", 1)
    text += f"{section}:\n" + "".join(
        f"  {gid}:\n    name: {gid}\n    members: [{', '.join(f'u{m}' for m in members)}]\n"
        for gid, members in groups.items()
    )
    return spec_of(text)


def _in_place(spec: SiteSpec) -> SiteState:
    """The site as `spec` wants it, its deactivated users (a few of sitegen's) so too."""
    held = {uid: "deactivated" for uid, u in spec.users.items() if u.status == DEACTIVATED}
    return state_of(spec, **held)


def _counting(spec: SiteSpec, section: str) -> SiteSpec:
    """The spec with each member id of `section` a CountingId."""
    groups = {
        gid: replace(group, members=tuple(CountingId(u) for u in group.members))
        for gid, group in getattr(spec, section).items()
    }
    return replace(spec, **{section: frozen_map(groups)})


@pytest.mark.parametrize("section", ["call_pickup_groups", "call_park_groups"])
def test_two_large_groups_trading_all_their_members_compare_each_member_a_few_times(
    section: str,
) -> None:
    first, second = list(range(MEMBERS)), list(range(MEMBERS, 2 * MEMBERS))
    before = _counting(_site(2 * MEMBERS, section, {"a": first, "b": second}), section)
    after = _counting(_site(2 * MEMBERS, section, {"a": second, "b": first}), section)
    current = _in_place(before)
    CountingId.compared = 0
    p = run(after, current)
    # each group first lets its members go, then takes the other's: docs/edge-cases.md #5
    kind = section.removesuffix("s")
    assert sorted((a.id, a.status) for a in p.actions if a.kind is Kind.SET_MEMBERS) == [
        (f"{kind}/a/set-members", Status.READY),
        (f"{kind}/a/set-members-leave", Status.READY),
        (f"{kind}/b/set-members", Status.READY),
        (f"{kind}/b/set-members-leave", Status.READY),
    ]
    assert CountingId.compared < 10 * 2 * MEMBERS, CountingId.compared


def test_a_large_call_centre_letting_its_agents_go_first_compares_each_agent_a_few_times() -> None:
    """The step that frees agent licences (the agents who stay) is found with a set."""
    before = [CountingId(f"u{m}") for m in range(MEMBERS)]
    after = [CountingId(f"u{m}") for m in range(MEMBERS, 2 * MEMBERS)] + before[:1]
    whole = Draft(Kind.SET_MEMBERS, Target("call_centre", "cc"), {"agents": (before, after)})
    CountingId.compared = 0
    drafts, leave = licences.split_agents_leaving([whole], whole)
    assert leave.changes["agents"] == (before, before[:1])
    assert whole.changes["agents"] == (before[:1], after)
    assert [d.id for d in drafts] == ["call_centre/cc/set-members-leave", whole.id]
    assert CountingId.compared < 10 * 2 * MEMBERS, CountingId.compared


def test_users_joining_managed_groups_ask_about_each_unmanaged_group_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whether a joining user is held in an unmanaged group of the same kind (it cannot
    then join another: docs/domain.md) is looked up, not found by asking every group."""
    asked: list[str] = []
    make = draft_module.unmanaged_matcher

    def counting_matcher(patterns: tuple[str, ...]):  # type: ignore[no-untyped-def]
        matches = make(patterns)

        def unmanaged(ident: str) -> bool:
            asked.append(ident)
            return matches(ident)

        return unmanaged

    monkeypatch.setattr(draft_module, "unmanaged_matcher", counting_matcher)
    groups = 100
    per_group = 3
    layout = {f"svc-{g}": [g * per_group] for g in range(groups)}  # one held user each
    layout |= {f"g{g}": [] for g in range(groups)}
    before = _site(groups * per_group, "call_pickup_groups", layout, unmanaged="svc-*")
    # every user joins a managed group, one in each held by an unmanaged group, which
    # the site file does not list
    layout = {f"g{g}": [g * per_group + k for k in range(per_group)] for g in range(groups)}
    after = _site(groups * per_group, "call_pickup_groups", layout, unmanaged="svc-*")
    asked.clear()
    p = run(after, _in_place(before))
    blocked = [a for a in p.actions if a.status is Status.BLOCKED]
    assert len(blocked) == groups  # each managed group waits for the user it cannot take
    assert blocked[0].target.id == "g0"
    assert blocked[0].reason.startswith("u0 is in call pickup group svc-0, which this site")
    joiners = groups * per_group
    # every user and group is asked about once by the drafts, each group once more here
    assert len(asked) <= joiners + 4 * groups, len(asked)
