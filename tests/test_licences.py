"""planning/licences.py: licences in the order, one rule at a time (the trades
that cut circles are in test_planner_circles.py)."""

from __future__ import annotations

from onenet_apply.model.plan import Kind, Status, Target
from onenet_apply.planning.draft import Draft
from onenet_apply.planning.licences import agents_leaving_in, block_licence_trade
from tests.planner_kit import run, spec, state_of, user
from tests.test_planner_circles import action, owning


def test_a_licence_with_room_to_spare_does_not_stop_the_checks_of_the_next() -> None:
    """call-centre-basic (checked first, by name) has room; standard is short, so the
    new user still waits for the trade that frees a standard licence."""
    current = state_of(spec("users:\n" + user("anna", 1, package="professional") + user("carl", 3)))
    desired = spec(
        "users:\n" + user("anna", 1) + user("carl", 3, package="professional") + user("abe", 4)
    )
    licences = {"call-centre-basic": 5, "standard": 2, "professional": 1}
    p = run(desired, owning(current, **licences))
    assert action(p, "user/abe/create").follows == ("user/carl/update-config",)


def test_a_circle_that_trades_no_licence_is_not_blocked_as_one() -> None:
    first = Draft(Kind.UPDATE_CONFIG, Target("user", "anna"), {"number": ("1", "2")})
    second = Draft(Kind.UPDATE_CONFIG, Target("user", "ben"), {"number": ("2", "1")})
    by_id = {d.id: d for d in (first, second)}
    site = spec("users:\n" + user("anna", 1) + user("ben", 2))
    blocked = block_licence_trade(list(by_id), by_id, site, owning(state_of(site), standard=2))
    assert blocked is False
    assert first.status is second.status is Status.READY


def test_only_an_agent_list_that_both_lets_go_and_takes_in_is_cut_in_two() -> None:
    def write(before: list[str], after: list[str]) -> Draft:
        return Draft(Kind.SET_MEMBERS, Target("call_centre", "cc"), {"agents": (before, after)})

    for only_one_way in (write(["anna"], ["anna", "ben"]), write(["anna", "ben"], ["anna"])):
        by_id = {only_one_way.id: only_one_way}
        assert agents_leaving_in(list(by_id), by_id) is None
    both = write(["anna"], ["ben"])
    assert agents_leaving_in([both.id], {both.id: both}) is both
