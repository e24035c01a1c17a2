"""docs/lifecycle.md's table, cell by cell, against the real sandbox.

Each allowed change succeeds; each forbidden one is refused with its rule named,
changes nothing, and is journalled as refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from onenet_apply.backends.base import RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Kind
from onenet_apply.model.state import SiteState
from tests.lifecycle_doc import lifecycle_table
from tests.sandbox_kit import SITE, act, create_group, create_user, deactivate, user_in_state

STATES = ("pending", "activated", "deactivated", "failed")
Change = Callable[[SandboxBackend, str], object]

CHANGES: dict[str, Change] = {
    "profile": lambda b, u: b.execute(
        SITE, act(Kind.UPDATE_PROFILE, "user", u, first_name="Renamed", services=[])
    ),
    "pickup membership": lambda b, u: b.execute(
        SITE, act(Kind.SET_MEMBERS, "call_pickup_group", "floor", members=["owner", u])
    ),
    "park membership": lambda b, u: b.execute(
        SITE, act(Kind.SET_MEMBERS, "call_park_group", "park", members=[u, "owner"])
    ),
    "hunt group membership": lambda b, u: b.execute(
        SITE, act(Kind.SET_MEMBERS, "hunt_group", "sales", members=["owner", u])
    ),
    "call centre membership": lambda b, u: b.execute(
        SITE, act(Kind.SET_MEMBERS, "call_centre", "support", agents=[u], supervisors=["owner"])
    ),
    "configuration": lambda b, u: b.execute(
        SITE, act(Kind.UPDATE_CONFIG, "user", u, package="professional", desk_phone="cisco-8841")
    ),
    "delete": lambda b, u: b.execute(SITE, act(Kind.DELETE, "user", u)),
    "new login details": lambda b, u: b.reset_login(SITE, u),
    "set password": lambda b, u: b.set_password(SITE, u, "Sommer2026!x"),
}

# (change) -> the states in which docs/lifecycle.md allows it
ALLOWED = {
    change: {state for state, cell in row.items() if cell.allowed}
    for change, row in lifecycle_table().items()
}


def test_every_row_of_the_lifecycle_table_is_checked() -> None:
    assert set(ALLOWED) == set(CHANGES)


# (change) -> what to read from the site's state, and its value after the change
EFFECTS: dict[str, tuple[Callable[[SiteState], object], object]] = {
    "profile": (
        lambda s: (s.users["anna"].item.first_name, s.users["anna"].item.services),
        ("Renamed", ()),
    ),
    "pickup membership": (
        lambda s: s.call_pickup_groups["floor"].item.members,
        ("owner", "anna"),
    ),
    "park membership": (lambda s: s.call_park_groups["park"].item.members, ("anna", "owner")),
    "hunt group membership": (lambda s: s.hunt_groups["sales"].item.members, ("owner", "anna")),
    "call centre membership": (
        lambda s: (
            s.call_centres["support"].item.agents,
            s.call_centres["support"].item.supervisors,
        ),
        (("anna",), ("owner",)),
    ),
    "configuration": (
        lambda s: (s.users["anna"].item.package, s.users["anna"].item.desk_phone),
        ("professional", "cisco-8841"),
    ),
    "delete": (lambda s: "anna" in s.users, False),
}
RULES = {
    "profile": "lifecycle:profile",
    "pickup membership": "lifecycle:membership",
    "park membership": "lifecycle:membership",
    "hunt group membership": "lifecycle:membership",
    "call centre membership": "lifecycle:membership",
    "configuration": "lifecycle:config",
    "delete": "lifecycle:delete",
    "new login details": "lifecycle:login",
    "set password": "lifecycle:login",
}


@pytest.fixture
def site(tmp_path: Path) -> SandboxBackend:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    user_in_state(backend, "owner", 90, "activated")
    create_group(backend, "hunt_group", "sales", 1, members=["owner"])
    create_group(backend, "call_centre", "support", 2, agents=["owner"], supervisors=["owner"])
    create_group(backend, "call_pickup_group", "floor", 3, members=["owner"])
    create_group(backend, "call_park_group", "park", 4, members=["owner"])
    yield backend
    backend.close()


CELLS = [(change, state) for change in CHANGES for state in STATES]


@pytest.mark.parametrize("change,state", CELLS, ids=[f"{c}-{s}" for c, s in CELLS])
def test_lifecycle_cell(site: SandboxBackend, change: str, state: str) -> None:
    user_in_state(site, "anna", 1, state)
    before = site.read_state(SITE)
    if state in ALLOWED[change]:
        result = CHANGES[change](site, "anna")
        if change in ("new login details", "set password"):  # secrets are not in the state
            assert site.verify_login(SITE, "anna", result.password)
        else:
            read, expected = EFFECTS[change]
            assert read(before) != expected and read(site.read_state(SITE)) == expected
        assert site.journal(SITE)[-1].outcome == "ok"
    else:
        with pytest.raises(RefusedError) as refused:
            CHANGES[change](site, "anna")
        assert refused.value.rule == RULES[change]
        expected = (
            "its activation failed: contact the One Net Business team"
            if state == "failed"
            else f"it is {state}"
        )
        assert str(refused.value).endswith(f": {expected} [{RULES[change]}]")
        assert site.read_state(SITE) == before  # nothing changed
        last = site.journal(SITE)[-1]
        assert (last.outcome, last.detail) == ("refused", str(refused.value))
    assert site.check_consistency(SITE) == []


def test_deactivated_user_stays_in_its_groups(site: SandboxBackend) -> None:
    user_in_state(site, "anna", 1, "activated")
    for change in (
        "hunt group membership",
        "call centre membership",
        "pickup membership",
        "park membership",
    ):
        CHANGES[change](site, "anna")
    site.execute(
        SITE,
        deactivate("anna", "+493012345699", "presses-key"),
    )
    state = site.read_state(SITE)
    assert "anna" in state.hunt_groups["sales"].item.members
    assert "anna" in state.call_centres["support"].item.agents
    assert "anna" in state.call_pickup_groups["floor"].item.members
    assert "anna" in state.call_park_groups["park"].item.members
    # a rewrite of the list that keeps the deactivated member is allowed, so is removing it
    site.execute(SITE, act(Kind.SET_MEMBERS, "hunt_group", "sales", members=["anna", "owner"]))
    site.execute(SITE, act(Kind.SET_MEMBERS, "hunt_group", "sales", members=["owner"]))
    assert site.read_state(SITE).hunt_groups["sales"].item.members == ("owner",)


def test_reactivate_only_a_deactivated_user(site: SandboxBackend) -> None:
    user_in_state(site, "anna", 1, "activated")
    with pytest.raises(RefusedError) as refused:
        site.execute(SITE, act(Kind.REACTIVATE, "user", "anna"))
    assert refused.value.rule == "lifecycle:reactivate"
    site.execute(
        SITE,
        deactivate("anna", "+493012345699", "presses-key"),
    )
    assert site.read_state(SITE).users["anna"].lifecycle == "deactivated"
    assert site.read_state(SITE).users["anna"].item.deactivation.caller == "presses-key"
    site.execute(SITE, act(Kind.REACTIVATE, "user", "anna"))
    current = site.read_state(SITE).users["anna"]
    assert (current.lifecycle, current.item.deactivation) == ("activated", None)


@pytest.mark.parametrize("state", ["pending", "failed"])
def test_deactivate_needs_an_active_user(site: SandboxBackend, state: str) -> None:
    user_in_state(site, "anna", 1, state)
    with pytest.raises(RefusedError) as refused:
        site.execute(
            SITE,
            deactivate("anna", "+493012345699", "presses-key"),
        )
    assert refused.value.rule == "lifecycle:deactivate"


def test_pending_groups_take_members_and_settings_but_not_numbers_or_deletion(
    site: SandboxBackend,
) -> None:
    create_group(site, "hunt_group", "new", 10, activate=False, members=["owner"])
    site.execute(SITE, act(Kind.UPDATE, "hunt_group", "new", name="Renamed", policy="regular"))
    site.execute(SITE, act(Kind.SET_MEMBERS, "hunt_group", "new", members=[]))
    for action, rule in (
        (act(Kind.UPDATE, "hunt_group", "new", number="+493012345780"), "lifecycle:group-number"),
        (act(Kind.UPDATE, "hunt_group", "new", extension="5780"), "lifecycle:group-number"),
        (act(Kind.DELETE, "hunt_group", "new"), "lifecycle:group-delete"),
    ):
        with pytest.raises(RefusedError) as refused:
            site.execute(SITE, action)
        assert refused.value.rule == rule
    site.activate(SITE, ["hunt_group/new"])
    site.execute(SITE, act(Kind.UPDATE, "hunt_group", "new", number="+493012345780"))
    site.execute(SITE, act(Kind.DELETE, "hunt_group", "new"))
    assert "new" not in site.read_state(SITE).hunt_groups


def test_failed_group_is_left_alone(site: SandboxBackend) -> None:
    create_group(site, "call_centre", "cc2", 11, activate=False)
    site.fail(SITE, ["call_centre/cc2"])
    for action in (
        act(Kind.UPDATE, "call_centre", "cc2", name="X"),
        act(Kind.SET_MEMBERS, "call_centre", "cc2", agents=["owner"]),
        act(Kind.DELETE, "call_centre", "cc2"),
    ):
        with pytest.raises(RefusedError, match="contact the One Net Business team"):
            site.execute(SITE, action)


def test_create_issues_login_details_only_with_a_desk_phone(site: SandboxBackend) -> None:
    with_phone = create_user(site, "anna", 1).credential
    without = create_user(site, "ben", 2, desk_phone="none").credential
    assert with_phone is not None and without is None
    assert with_phone.event == "created"
    assert site.verify_login(SITE, "anna", with_phone.password)
