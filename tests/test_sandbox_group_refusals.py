"""The sandbox keeps the platform's rules on groups whatever sends the action: numbers
and extensions follow a group that changes them, a group's number is kept while
something forwards or transfers to it, and only a switch to weighted checks weights."""

from __future__ import annotations

import pytest

from onenet_apply.model.plan import Kind
from tests.sandbox_kit import SITE, act, create_group, create_user, user_values
from tests.test_sandbox_rules import refused, site  # noqa: F401  (the fixture)


@pytest.mark.parametrize(
    ("field", "old", "new"),
    [("number", "+493012345701", "+493012345790"), ("extension", "5701", "5790")],
)
def test_a_group_changing_its_number_frees_the_old_one_and_holds_the_new(
    site,  # noqa: F811
    field: str,
    old: str,
    new: str,
) -> None:
    create_group(site, "hunt_group", "sales", 1)
    site.execute(SITE, act(Kind.UPDATE, "hunt_group", "sales", **{field: new}))
    assert getattr(site.read_state(SITE).hunt_groups["sales"].item, field) == new
    values = {"number": "+493012345604", "extension": "5604", field: new}
    error = refused(
        site, act(Kind.CREATE, "user", "dora", **user_values(4, **values)), f"{field}-unique"
    )
    assert error.detail == f"{field} {new} is held by hunt_group/sales"
    create_user(site, "dora", 4, **{field: old})  # the old one is free at once


def test_a_group_without_a_number_is_not_held_by_forwards_to_nowhere(site) -> None:  # noqa: F811
    create_group(site, "hunt_group", "sales", 1, no_answer=None)
    create_group(site, "call_pickup_group", "floor", 2, members=["anna"])
    site.execute(SITE, act(Kind.DELETE, "call_pickup_group", "floor"))
    assert "floor" not in site.read_state(SITE).call_pickup_groups


def test_a_hunt_group_forwarding_to_a_call_centre_of_the_same_id_keeps_its_number(
    site,  # noqa: F811
) -> None:
    create_group(site, "call_centre", "help", 1)
    forward = {"rings": 3, "forward_to": "+493012345701", "timeout": 30}
    create_group(site, "hunt_group", "help", 2, no_answer=forward)
    error = refused(site, act(Kind.DELETE, "call_centre", "help"), "referenced")
    assert error.detail == "hunt group help forwards to +493012345701"


def test_only_a_switch_to_weighted_checks_the_weights(site) -> None:  # noqa: F811
    # a deleted member leaves the other weights short of 100 until the next list write
    weights = {"anna": 60, "ben": 40}
    create_group(
        site, "hunt_group", "sales", 1, policy="weighted", members=["anna", "ben"], weights=weights
    )
    site.execute(SITE, act(Kind.DELETE, "user", "ben"))
    site.execute(SITE, act(Kind.UPDATE, "hunt_group", "sales", name="Sales desk"))
    group = site.read_state(SITE).hunt_groups["sales"].item
    assert (group.name, dict(group.weights)) == ("Sales desk", {"anna": 60})
    refused(site, act(Kind.UPDATE, "hunt_group", "sales", policy="weighted"), "weights")
