"""The consistency checker reports each kind of damage it exists to find, and only that."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from tests.sandbox_kit import SITE, create_group, user_in_state

ANNA = "+493012345601"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SandboxBackend]:
    """Two activated users, a pending and a failed one, and one group of each type."""
    backend = SandboxBackend(tmp_path / "sandbox.db")
    for uid, n, state in (("anna", 1, "activated"), ("ben", 2, "activated")):
        user_in_state(backend, uid, n, state)
    user_in_state(backend, "carla", 3, "pending")
    user_in_state(backend, "dirk", 4, "failed")
    user_in_state(backend, "eva", 5, "activated", desk_phone="none")
    create_group(backend, "hunt_group", "a-round", 1)  # a circular group, listed first
    create_group(backend, "hunt_group", "sales", 2, policy="weighted")
    create_group(backend, "call_pickup_group", "floor", 3)
    create_group(backend, "call_pickup_group", "lobby", 4)
    create_group(backend, "call_park_group", "bay", 5)
    create_group(backend, "call_park_group", "dock", 6)
    assert backend.check_consistency(SITE) == []
    yield backend
    backend.close()


def damage(site: SandboxBackend, *statements: str) -> list[str]:
    for statement in statements:
        site.db.execute(statement)
    return site.check_consistency(SITE)


def member(group_type: str, group: str, user: str, weight: str = "NULL") -> str:
    return (
        f"INSERT INTO members (site, type, group_id, role, position, user_id, weight) "
        f"VALUES ('{SITE}', '{group_type}', '{group}', 'members', 0, '{user}', {weight})"
    )


def test_a_number_its_owner_does_not_hold(site: SandboxBackend) -> None:
    assert damage(site, "DELETE FROM numbers WHERE owner_id = 'anna'") == [
        f"number of user/anna: record {ANNA}, held None"
    ]


def test_a_held_extension_nobody_has(site: SandboxBackend) -> None:
    stray = f"INSERT INTO extensions VALUES ('{SITE}', '5699', 'user', 'ghost')"
    assert damage(site, stray) == ["extension of user/ghost: record None, held 5699"]


def test_a_group_number_not_held(site: SandboxBackend) -> None:
    assert damage(site, "DELETE FROM numbers WHERE owner_id = 'sales'") == [
        "number of hunt_group/sales: record +493012345702, held None"
    ]


def test_login_details_follow_the_desk_phone(site: SandboxBackend) -> None:
    assert damage(
        site,
        "UPDATE users SET secret_hash = NULL WHERE id = 'anna'",
        "UPDATE users SET secret_hash = 'x' WHERE id = 'eva'",
    ) == [
        "user anna: desk phone yealink-t54w, login details none",
        "user eva: desk phone none, login details issued",
    ]


@pytest.mark.parametrize("group_type", ["call_pickup_group", "call_park_group"])
def test_a_user_in_two_groups_of_a_one_group_type(site: SandboxBackend, group_type: str) -> None:
    first, second = ("floor", "lobby") if group_type == "call_pickup_group" else ("bay", "dock")
    assert damage(site, member(group_type, first, "anna")) == []
    assert damage(site, member(group_type, second, "anna")) == [
        f"user anna is in 2 groups of type {group_type}"
    ]


def test_pending_and_failed_users_in_hunt_groups(site: SandboxBackend) -> None:
    assert damage(
        site, member("hunt_group", "a-round", "carla"), member("hunt_group", "a-round", "dirk")
    ) == [
        "pending user carla is in hunt_group a-round",
        "failed user dirk is in hunt_group a-round",
    ]


def test_a_weighted_hunt_group_with_a_member_without_weight(site: SandboxBackend) -> None:
    assert damage(site, member("hunt_group", "a-round", "ben")) == []  # circular: no weights
    assert damage(site, member("hunt_group", "sales", "anna", "100")) == []
    assert damage(site, member("hunt_group", "sales", "ben")) == [
        "weighted hunt group sales has weights [100, None]"
    ]


def test_a_broken_foreign_key(site: SandboxBackend) -> None:
    site.db.execute("PRAGMA foreign_keys = OFF")
    assert damage(site, member("call_pickup_group", "gone", "anna")) == [
        "foreign key broken: ('members', None, 'groups', 1)"
    ]


def test_a_damaged_index(site: SandboxBackend, tmp_path: Path) -> None:
    # the index keeps its old entries while the schema now says it holds other values
    site.db.execute("PRAGMA writable_schema = ON")
    site.db.execute(
        "UPDATE sqlite_schema SET sql = 'CREATE UNIQUE INDEX users_username ON users "
        "(site, first_name COLLATE NOCASE)' WHERE name = 'users_username'"
    )
    site.close()
    reopened = SandboxBackend(tmp_path / "sandbox.db")
    try:
        problems = reopened.check_consistency(SITE)
    finally:
        reopened.close()
    assert problems
    assert all(p.startswith("integrity_check: ") for p in problems)
