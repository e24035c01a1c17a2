"""The sandbox enforces the platform's rules on its own: every refusal changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.backends.base import ConflictError, NotFoundError, RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Action, Kind
from tests.sandbox_kit import (
    SITE,
    act,
    create_group,
    create_user,
    deactivate,
    group_values,
    user_in_state,
    user_values,
)


@pytest.fixture
def site(tmp_path: Path) -> SandboxBackend:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    for uid, n in (("anna", 1), ("ben", 2), ("carla", 3)):
        user_in_state(backend, uid, n, "activated")
    yield backend
    assert backend.check_consistency(SITE) == []
    backend.close()


def refused(site: SandboxBackend, action: Action, rule: str) -> RefusedError:
    before = site.read_state(SITE)
    with pytest.raises(RefusedError) as caught:
        site.execute(SITE, action)
    assert caught.value.rule == rule
    assert site.read_state(SITE) == before
    return caught.value


def test_delete_frees_number_and_extension_for_the_very_next_action(site: SandboxBackend) -> None:
    site.execute(SITE, act(Kind.DELETE, "user", "anna"))
    # docs/edge-cases.md #2: the next action gives anna's number and extension to a new user
    create_user(site, "yusuf", 1, username="yusuf")
    assert site.read_state(SITE).users["yusuf"].item.number == "+493012345601"


def test_delete_removes_the_user_from_every_group(site: SandboxBackend) -> None:
    create_group(site, "hunt_group", "sales", 1, members=["anna", "ben"])
    create_group(site, "call_centre", "support", 2, agents=["anna"], supervisors=["anna", "ben"])
    create_group(site, "call_pickup_group", "floor", 3, members=["anna"])
    create_group(site, "call_park_group", "park", 4, members=["ben", "anna"])
    site.execute(SITE, act(Kind.DELETE, "user", "anna"))
    state = site.read_state(SITE)
    assert "anna" not in state.users
    assert state.hunt_groups["sales"].item.members == ("ben",)
    assert state.call_centres["support"].item.agents == ()
    assert state.call_centres["support"].item.supervisors == ("ben",)
    assert state.call_pickup_groups["floor"].item.members == ()
    assert state.call_park_groups["park"].item.members == ("ben",)


def test_numbers_are_unique_across_users_and_groups(site: SandboxBackend) -> None:
    refused(
        site,
        act(Kind.CREATE, "user", "dora", **user_values(4, number="+493012345601")),
        "number-unique",
    )
    refused(
        site,
        act(
            Kind.CREATE,
            "hunt_group",
            "hg",
            **group_values("hunt_group", 70, number="+493012345602", extension="7000"),
        ),
        "number-unique",
    )
    error = refused(
        site, act(Kind.UPDATE_CONFIG, "user", "anna", number="+493012345603"), "number-unique"
    )
    assert "held by user/carla" in str(error)


def test_extensions_are_unique_across_users_and_groups(site: SandboxBackend) -> None:
    refused(
        site,
        act(Kind.CREATE, "user", "dora", **user_values(4, extension="5601")),
        "extension-unique",
    )
    refused(
        site,
        act(
            Kind.CREATE,
            "call_centre",
            "cc",
            **group_values("call_centre", 77, extension="5602", edition="basic"),
        ),
        "extension-unique",
    )


def test_usernames_are_unique_ignoring_case(site: SandboxBackend) -> None:
    refused(
        site,
        act(Kind.CREATE, "user", "dora", **user_values(4, username="USER.1")),
        "username-unique",
    )
    refused(site, act(Kind.UPDATE_CONFIG, "user", "ben", username="user.1"), "username-unique")


def test_number_swap_needs_a_free_temporary_number(site: SandboxBackend) -> None:
    # docs/edge-cases.md #1: a direct swap is refused; going through a free number works
    refused(site, act(Kind.UPDATE_CONFIG, "user", "anna", number="+493012345602"), "number-unique")
    for uid, number in (
        ("anna", "+493012345650"),
        ("ben", "+493012345601"),
        ("anna", "+493012345602"),
    ):
        site.execute(SITE, act(Kind.UPDATE_CONFIG, "user", uid, number=number))
    users = site.read_state(SITE).users
    assert (users["anna"].item.number, users["ben"].item.number) == (
        "+493012345602",
        "+493012345601",
    )


@pytest.mark.parametrize("group_type", ["call_pickup_group", "call_park_group"])
def test_a_user_is_in_at_most_one_pickup_and_one_park_group(
    site: SandboxBackend, group_type: str
) -> None:
    create_group(site, group_type, "one", 1, members=["anna"])
    create_group(site, group_type, "two", 2)
    error = refused(
        site,
        act(Kind.SET_MEMBERS, group_type, "two", members=["ben", "anna"]),
        f"one-{group_type.replace('_', '-')}",
    )
    assert "already in" in str(error) and "one" in str(error)
    # docs/edge-cases.md #5: out of the old group first, then into the new one
    site.execute(SITE, act(Kind.SET_MEMBERS, group_type, "one", members=[]))
    site.execute(SITE, act(Kind.SET_MEMBERS, group_type, "two", members=["ben", "anna"]))


def test_member_lists_are_written_whole(site: SandboxBackend) -> None:
    create_group(site, "call_park_group", "park", 1, members=["anna", "ben"])
    site.execute(SITE, act(Kind.SET_MEMBERS, "call_park_group", "park", members=["carla", "anna"]))
    assert site.read_state(SITE).call_park_groups["park"].item.members == ("carla", "anna")
    refused(
        site,
        act(Kind.SET_MEMBERS, "call_park_group", "park", members=["anna", "anna"]),
        "members-unique",
    )
    refused(
        site, act(Kind.SET_MEMBERS, "call_park_group", "park", members=["zed"]), "unknown-member"
    )


def test_a_member_list_names_its_first_offender_in_list_order(site: SandboxBackend) -> None:
    """Every listed user is checked in list order, whether read one by one or all at
    once: the refusal names the first one that breaks a rule, and kept members stay."""
    user_in_state(site, "pia", 4, "pending")
    user_in_state(site, "dora", 5, "activated", options=["call-centre-basic"])
    user_in_state(site, "emil", 6, "activated", options=[])
    create_group(site, "hunt_group", "sales", 1, members=["anna"])
    create_group(site, "call_park_group", "park", 2, members=["ben"])
    create_group(site, "call_park_group", "lot", 3)
    create_group(site, "call_centre", "desk", 4, edition="basic")

    def offender(group_type: str, group_id: str, rule: str, **lists: list[str]) -> str:
        error = refused(site, act(Kind.SET_MEMBERS, group_type, group_id, **lists), rule)
        return str(error)

    assert "zed" in offender(
        "hunt_group", "sales", "unknown-member", members=["anna", "zed", "pia"]
    )
    assert "pia" in offender(
        "hunt_group", "sales", "lifecycle:membership", members=["anna", "pia", "zed"]
    )
    lot = offender("call_park_group", "lot", "one-call-park-group", members=["carla", "ben", "zed"])
    assert "user ben is already in call park group park" in lot
    agents = offender("call_centre", "desk", "agent-option", agents=["dora", "emil", "carla"])
    assert "user emil lacks" in agents
    # kept members are not checked again; new ones are, whatever their number
    site.execute(SITE, act(Kind.SET_MEMBERS, "call_park_group", "park", members=["pia", "ben"]))
    site.execute(SITE, act(Kind.SET_MEMBERS, "call_park_group", "lot", members=[]))
    assert site.read_state(SITE).call_park_groups["park"].item.members == ("pia", "ben")


def test_weighted_hunt_groups_need_weights_summing_to_100(site: SandboxBackend) -> None:
    create_group(
        site,
        "hunt_group",
        "sales",
        1,
        policy="weighted",
        members=["anna", "ben"],
        weights={"anna": 60, "ben": 40},
    )
    assert dict(site.read_state(SITE).hunt_groups["sales"].item.weights) == {"anna": 60, "ben": 40}
    refused(
        site,
        act(
            Kind.SET_MEMBERS,
            "hunt_group",
            "sales",
            members=["anna", "ben"],
            weights={"anna": 60, "ben": 30},
        ),
        "weights",
    )
    refused(
        site,
        act(
            Kind.SET_MEMBERS,
            "hunt_group",
            "sales",
            members=["anna", "carla"],
            weights={"anna": 60, "ben": 40},
        ),
        "weights",
    )
    create_group(site, "hunt_group", "plain", 2, members=["carla"])
    refused(site, act(Kind.UPDATE, "hunt_group", "plain", policy="weighted"), "weights")


def test_call_centre_agents_need_an_agent_option(site: SandboxBackend) -> None:
    user_in_state(site, "dora", 4, "activated", options=["call-centre-basic"])
    user_in_state(site, "emil", 5, "activated", options=[])
    create_group(site, "call_centre", "basic", 1, edition="basic", agents=["dora"])
    create_group(site, "call_centre", "std", 2, edition="standard")
    refused(site, act(Kind.SET_MEMBERS, "call_centre", "std", agents=["dora"]), "agent-option")
    refused(site, act(Kind.SET_MEMBERS, "call_centre", "basic", agents=["emil"]), "agent-option")
    # supervisors need no option
    site.execute(SITE, act(Kind.SET_MEMBERS, "call_centre", "std", supervisors=["emil"]))
    # an agent cannot lose the option it needs, nor the centre be upgraded past it
    refused(site, act(Kind.UPDATE_CONFIG, "user", "dora", options=[]), "agent-option")
    refused(site, act(Kind.UPDATE, "call_centre", "basic", edition="standard"), "agent-option")


def test_a_referenced_group_cannot_be_deleted(site: SandboxBackend) -> None:
    # docs/edge-cases.md #10: another hunt group's forward-to, or a deactivated user's transfer
    create_group(site, "hunt_group", "target", 1)
    create_group(
        site,
        "hunt_group",
        "front",
        2,
        no_answer={"rings": 3, "forward_to": "+493012345701", "timeout": 30},
    )
    error = refused(site, act(Kind.DELETE, "hunt_group", "target"), "referenced")
    assert "hunt group front forwards to +493012345701" in str(error)
    site.execute(SITE, act(Kind.UPDATE, "hunt_group", "front", no_answer=None))
    site.execute(
        SITE,
        deactivate("anna", "+493012345701", "hears-number"),
    )
    error = refused(site, act(Kind.DELETE, "hunt_group", "target"), "referenced")
    assert "deactivated user anna transfers to" in str(error)
    site.execute(SITE, act(Kind.REACTIVATE, "user", "anna"))
    site.execute(SITE, act(Kind.DELETE, "hunt_group", "target"))


def test_licence_limits(site: SandboxBackend) -> None:
    site.configure(SITE, licences={"professional": 1, "call-centre-standard": 3})
    site.execute(SITE, act(Kind.UPDATE_CONFIG, "user", "anna", package="professional"))
    refused(site, act(Kind.UPDATE_CONFIG, "user", "ben", package="professional"), "licences")
    refused(
        site, act(Kind.CREATE, "user", "dora", **user_values(4)), "licences"
    )  # 4th agent option
    # docs/edge-cases.md #9: free a licence first, then use it
    site.execute(SITE, act(Kind.UPDATE_CONFIG, "user", "anna", package="standard"))
    site.execute(SITE, act(Kind.UPDATE_CONFIG, "user", "ben", package="professional"))


def test_catalogueuser_values(site: SandboxBackend) -> None:
    refused(site, act(Kind.CREATE, "user", "dora", **user_values(4, package="gold")), "catalogue")
    refused(site, act(Kind.UPDATE_CONFIG, "user", "anna", desk_phone="nokia-3310"), "catalogue")
    refused(site, act(Kind.UPDATE_PROFILE, "user", "anna", services=["teleport"]), "catalogue")
    refused(
        site,
        act(Kind.CREATE, "call_centre", "cc", **group_values("call_centre", 77, edition="premium")),
        "catalogue",
    )


def test_profile_and_configuration_fields_do_not_mix(site: SandboxBackend) -> None:
    with pytest.raises(ConflictError, match="a profile update cannot change number"):
        site.execute(SITE, act(Kind.UPDATE_PROFILE, "user", "anna", number="+493012345650"))
    with pytest.raises(ConflictError, match="a configuration update cannot change first_name"):
        site.execute(SITE, act(Kind.UPDATE_CONFIG, "user", "anna", first_name="X"))


def test_existing_and_missing_objects(site: SandboxBackend) -> None:
    with pytest.raises(ConflictError, match="already exists"):
        create_user(site, "anna", 9)
    with pytest.raises(NotFoundError):
        site.execute(SITE, act(Kind.DELETE, "user", "zed"))
    with pytest.raises(NotFoundError):
        site.execute(SITE, act(Kind.DELETE, "call_park_group", "zed"))


def test_new_desk_phone_gets_new_login_details(site: SandboxBackend) -> None:
    result = site.execute(SITE, act(Kind.UPDATE_CONFIG, "user", "anna", desk_phone="cisco-8841"))
    assert result.credential is not None and result.credential.device_type == "cisco-8841"
    assert site.verify_login(SITE, "anna", result.credential.password)
    result = site.execute(SITE, act(Kind.UPDATE_CONFIG, "user", "anna", desk_phone="none"))
    assert result.credential is None
    with pytest.raises(RefusedError) as caught:
        site.reset_login(SITE, "anna")
    assert caught.value.rule == "desk-phone"
