"""Ordering's topological sort is graphlib's order, and a circle is graphlib's error.

`ordering._toposort` replaces `graphlib.TopologicalSorter` on the hot path (a
round of ready actions at a time, each round sorted by rank); plans must come out
exactly as they did with graphlib, and the caller splits the circle graphlib names.
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onenet_apply.model.plan import Kind, Target
from onenet_apply.planning.draft import Draft
from onenet_apply.planning.ordering import _rank, _toposort

KINDS = [Kind.DELETE, Kind.CREATE, Kind.UPDATE_CONFIG, Kind.SET_MEMBERS]
TYPES = ["user", "hunt_group", "call_centre"]


def graphlib_order(drafts: list[Draft]) -> list[str]:
    """The order as graphlib gives it: what `_toposort` must reproduce."""
    by_id = {d.id: d for d in drafts}
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for draft in drafts:
        sorter.add(draft.id, *sorted(draft.deps))
    sorter.prepare()
    ordered: list[str] = []
    while sorter.is_active():
        batch = sorted((by_id[i] for i in sorter.get_ready()), key=_rank)
        ordered.extend(d.id for d in batch)
        sorter.done(*(d.id for d in batch))
    return ordered


@st.composite
def graphs(draw: st.DrawFn, acyclic: bool) -> list[Draft]:
    count = draw(st.integers(1, 25))
    drafts = []
    seen = set()
    for _ in range(count):
        draft = Draft(
            draw(st.sampled_from(KINDS)),
            Target(draw(st.sampled_from(TYPES)), draw(st.sampled_from("abcdefgh"))),
            {},
        )
        if draft.id not in seen:
            seen.add(draft.id)
            drafts.append(draft)
    for i, draft in enumerate(drafts):
        # acyclic: only on drafts listed earlier, so the listing is one valid order
        candidates = drafts[:i] if acyclic else drafts
        if candidates:
            picks = draw(st.lists(st.sampled_from(candidates), max_size=4))
            draft.deps = {d.id for d in picks if d is not draft}
    draw(st.randoms()).shuffle(drafts)  # the input order must not matter
    return drafts


@settings(max_examples=300, deadline=None)
@given(graphs(acyclic=True))
def test_the_order_is_graphlibs(drafts: list[Draft]) -> None:
    by_id = {d.id: d for d in drafts}
    assert [d.id for d in _toposort(drafts, by_id)] == graphlib_order(drafts)


@settings(max_examples=300, deadline=None)
@given(graphs(acyclic=False))
def test_a_circle_is_the_one_graphlib_names(drafts: list[Draft]) -> None:
    by_id = {d.id: d for d in drafts}
    try:
        expected = graphlib_order(drafts)
    except CycleError as e:
        with pytest.raises(CycleError) as raised:
            _toposort(drafts, by_id)
        assert raised.value.args == e.args
    else:
        assert [d.id for d in _toposort(drafts, by_id)] == expected
