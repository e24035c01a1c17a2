"""The sandbox keeps the platform's rules on groups whatever sends the action: fields a
kind of action does not take are refused, numbers and extensions follow a group that
changes them, a group's number is kept while something forwards or transfers to it,
only a switch to weighted checks weights; each group reads back as it was written."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.backends.base import ConflictError, RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Action, Kind
from onenet_apply.model.spec import CallCentre, CallParkGroup, CallPickupGroup, HuntGroup, NoAnswer
from tests.sandbox_kit import (
    SITE,
    act,
    create_group,
    create_user,
    deactivate,
    sql_steps,
    user_in_state,
    user_values,
)
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


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            act(Kind.CREATE, "call_pickup_group", "desk", name="Desk", number="+493012345790"),
            "a call pickup group creation cannot change number",
        ),
        (
            act(Kind.UPDATE, "call_park_group", "park", extension="5790"),
            "a call park group update cannot change extension",
        ),
        (
            act(Kind.UPDATE, "hunt_group", "sales", edition="basic"),
            "a hunt group update cannot change edition",
        ),
        (
            act(Kind.SET_MEMBERS, "hunt_group", "sales", members=["anna"], name="Renamed"),
            "a member list write cannot change name",
        ),
    ],
    ids=["create-pickup-number", "update-park-extension", "update-hunt-edition", "members-name"],
)
def test_an_action_with_a_field_its_kind_does_not_take_is_refused(
    site,  # noqa: F811
    action: Action,
    message: str,
) -> None:
    create_group(site, "hunt_group", "sales", 1)
    create_group(site, "call_park_group", "park", 2)
    before = site.read_state(SITE)
    with pytest.raises(ConflictError) as caught:
        site.execute(SITE, action)
    assert str(caught.value) == message
    assert site.read_state(SITE) == before


@pytest.mark.parametrize("group_type", ["hunt_group", "call_pickup_group"])
def test_a_group_that_exists_is_not_created_again(site, group_type: str) -> None:  # noqa: F811
    create_group(site, group_type, "sales", 1)
    before = site.read_state(SITE)
    with pytest.raises(ConflictError) as caught:
        create_group(site, group_type, "sales", 2, activate=False)
    label = group_type.replace("_", " ")
    assert str(caught.value) == f"{label} sales already exists"
    assert site.read_state(SITE) == before


def test_a_lifecycle_refusal_names_the_group(site) -> None:  # noqa: F811
    create_group(site, "hunt_group", "new", 1, activate=False)
    error = refused(site, act(Kind.DELETE, "hunt_group", "new"), "lifecycle:group-delete")
    assert error.detail == "cannot delete hunt group new: it is pending"


def test_a_call_centre_cannot_change_to_an_unknown_edition(site) -> None:  # noqa: F811
    create_group(site, "call_centre", "help", 1, agents=["anna"])
    error = refused(site, act(Kind.UPDATE, "call_centre", "help", edition="premium"), "catalogue")
    assert error.detail == "unknown call centre edition 'premium'"


def test_a_member_list_write_of_one_role_keeps_the_other(site) -> None:  # noqa: F811
    create_group(site, "call_centre", "help", 1, agents=["anna"], supervisors=["ben"])
    site.execute(SITE, act(Kind.SET_MEMBERS, "call_centre", "help", supervisors=["carla"]))
    centre = site.read_state(SITE).call_centres["help"].item
    assert (centre.agents, centre.supervisors) == (("anna",), ("carla",))


def test_each_group_reads_back_as_it_was_written(site) -> None:  # noqa: F811
    forward = {"rings": 3, "forward_to": "+493012345702", "timeout": 30}
    weights = {"anna": 70, "ben": 30}
    create_group(
        site,
        "hunt_group",
        "sales",
        1,
        policy="weighted",
        no_answer=forward,
        members=["anna", "ben"],
        weights=weights,
    )
    create_group(site, "call_centre", "help", 2, agents=["anna"], supervisors=["carla"])
    create_group(site, "call_pickup_group", "floor", 3, members=["ben", "anna"])
    create_group(site, "call_park_group", "park", 4, members=["carla"], recall_timer=60)
    state = site.read_state(SITE)
    assert state.hunt_groups["sales"].item == HuntGroup(
        "sales",
        "Hunt 1",
        "+493012345701",
        "5701",
        "weighted",
        ("anna", "ben"),
        weights,
        NoAnswer(3, "+493012345702", 30),
    )
    assert state.call_centres["help"].item == CallCentre(
        "help", "Centre 2", "+493012345702", "5702", "standard", ("anna",), ("carla",)
    )
    assert state.call_pickup_groups["floor"].item == CallPickupGroup(
        "floor", "Pickup 3", ("ben", "anna")
    )
    assert state.call_park_groups["park"].item == CallParkGroup("park", "Park 4", ("carla",), 60)


# -- who holds a group's number: looked up in the indexes (store.FORWARD_TO, TRANSFER_TO) --
def forward_to(number: str) -> dict[str, object]:
    return {"rings": 3, "forward_to": number, "timeout": 30}


def test_the_first_holder_by_id_is_named_hunt_groups_before_users(site) -> None:  # noqa: F811
    create_group(site, "call_centre", "help", 1)
    site.execute(SITE, deactivate("anna", "+493012345701", "hears-number"))
    error = refused(site, act(Kind.DELETE, "call_centre", "help"), "referenced")
    assert error.detail == "deactivated user anna transfers to +493012345701"
    for gid, n in (("zeta", 3), ("beta", 2), ("omega", 4)):
        create_group(site, "hunt_group", gid, n, no_answer=forward_to("+493012345701"))
    error = refused(site, act(Kind.DELETE, "call_centre", "help"), "referenced")
    assert error.detail == "hunt group beta forwards to +493012345701"


def test_a_record_sqlite_cannot_read_does_not_hide_or_stop_the_lookup(site) -> None:  # noqa: F811
    create_group(site, "call_centre", "help", 1)
    create_group(site, "hunt_group", "broken", 2, no_answer=forward_to("+493012345701"))
    create_group(site, "hunt_group", "front", 3, no_answer=forward_to("+493012345701"))
    (settings,) = site.db.execute("SELECT settings FROM groups WHERE id = 'broken'").fetchone()
    site.db.execute("UPDATE groups SET settings = '{{' WHERE id = 'broken'")  # as by hand
    with pytest.raises(RefusedError) as caught:
        site.execute(SITE, act(Kind.DELETE, "call_centre", "help"))
    assert caught.value.detail == "hunt group front forwards to +493012345701"
    site.db.execute("UPDATE groups SET settings = ? WHERE id = 'broken'", (settings,))


def test_a_group_deletion_reads_as_much_with_ten_times_the_forwards_and_transfers(
    tmp_path: Path,
) -> None:
    """Each lookup reads its index: decoding every hunt group's settings and every
    deactivation made deleting many groups quadratic."""
    backend = SandboxBackend(tmp_path / "sandbox.db")
    create_group(backend, "call_centre", "help", 1)
    steps = []
    for count in (8, 80):
        while len(backend.read_state(SITE).hunt_groups) < count:
            n = len(backend.read_state(SITE).hunt_groups) + 2
            create_group(backend, "hunt_group", f"h{n}", n, no_answer=forward_to("+493012345799"))
            user_in_state(backend, f"u{n}", n, "deactivated", options=[])
        steps.append(sql_steps(backend, lambda: backend.execute(SITE, delete_help())))
        create_group(backend, "call_centre", "help", 1)
    assert steps[1] < 1.5 * steps[0], steps


def delete_help() -> Action:
    return act(Kind.DELETE, "call_centre", "help")
