"""The consistency checker is the oracle of the kill, fault and property tests: here
it is shown to find each kind of damage it claims to, with the message that names it,
and nothing on a healthy site."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from tests.sandbox_kit import SITE, create_group, user_in_state


@pytest.fixture
def db_path(tmp_path: Path) -> Iterator[Path]:
    """A healthy site with every kind of object: users with and without a desk phone,
    a pending one, a weighted hunt group, a call centre, pickup and park groups."""
    path = tmp_path / "sandbox.db"
    backend = SandboxBackend(path, faults=None)
    user_in_state(backend, "anna", 1, "activated")
    user_in_state(backend, "ben", 2, "activated", desk_phone="none")
    user_in_state(backend, "carl", 3, "pending")
    members = {"members": ["anna", "ben"]}
    # a circular hunt group first: the weights check must look past it to `sales`
    create_group(backend, "hunt_group", "a-round", 7, members=["anna"])
    create_group(backend, "hunt_group", "sales", 1, policy="weighted", **members,
                 weights={"anna": 50, "ben": 50})  # fmt: skip
    create_group(backend, "call_centre", "support", 2, agents=["anna"], supervisors=["ben"])
    create_group(backend, "call_pickup_group", "floor1", 3, members=["anna", "carl"])
    create_group(backend, "call_pickup_group", "floor2", 4, members=["ben"])
    create_group(backend, "call_park_group", "park1", 5, members=["anna"])
    create_group(backend, "call_park_group", "park2", 6, members=["ben"])
    assert backend.check_consistency(SITE) == []
    backend.close()
    yield path


def damage(path: Path, *statements: str) -> list[str]:
    """Run raw SQL past the sandbox's rules (foreign keys off), then check the site."""
    raw = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        raw.execute(statement)
    raw.close()
    backend = SandboxBackend(path, faults=None)
    try:
        return backend.check_consistency(SITE)
    finally:
        backend.close()


ANNA = "+493012345601"
MEMBER = "INSERT INTO members VALUES ('berlin', '{type}', '{group}', 'members', 9, '{user}', NULL)"

DAMAGE = {
    "number record differs from the held one": (
        ["UPDATE users SET number = '+493012345698' WHERE id = 'anna'"],
        [f"number of user/anna: record +493012345698, held {ANNA}"],
    ),
    "a number held by nobody": (
        ["INSERT INTO numbers VALUES ('berlin', '+493012345697', 'user', 'ghost')"],
        ["number of user/ghost: record None, held +493012345697"],
    ),
    "a group's number not held": (
        ["DELETE FROM numbers WHERE owner_id = 'sales'"],
        ["number of hunt_group/sales: record +493012345701, held None"],
    ),
    "an extension not held": (
        ["DELETE FROM extensions WHERE owner_id = 'ben'"],
        ["extension of user/ben: record 5602, held None"],
    ),
    "a desk phone without login details": (
        ["UPDATE users SET secret_hash = NULL WHERE id = 'anna'"],
        ["user anna: desk phone yealink-t54w, login details none"],
    ),
    "login details without a desk phone": (
        ["UPDATE users SET desk_phone = 'none' WHERE id = 'anna'"],
        ["user anna: desk phone none, login details issued"],
    ),
    "a user in two pickup groups": (
        [MEMBER.format(type="call_pickup_group", group="floor2", user="anna")],
        ["user anna is in 2 groups of type call_pickup_group"],
    ),
    "a user in two park groups": (
        [MEMBER.format(type="call_park_group", group="park2", user="anna")],
        ["user anna is in 2 groups of type call_park_group"],
    ),
    "a pending user in a hunt group": (
        [MEMBER.format(type="hunt_group", group="sales", user="carl")],
        ["pending user carl is in hunt_group sales", "weighted hunt group sales has weights"],
    ),
    "a failed user in a call centre": (
        ["UPDATE users SET lifecycle = 'failed' WHERE id = 'anna'"],
        [
            "failed user anna is in call_centre support",
            "failed user anna is in hunt_group a-round",
            "failed user anna is in hunt_group sales",
        ],
    ),
    "a weighted member without a weight": (
        ["UPDATE members SET weight = NULL WHERE group_id = 'sales' AND user_id = 'ben'"],
        ["weighted hunt group sales has weights [50, None]"],
    ),
    "a member who is no user": (
        [MEMBER.format(type="call_pickup_group", group="floor2", user="ghost")],
        ["foreign key broken: ('members', None, 'users', 0)"],
    ),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_each_kind_of_damage_is_reported(db_path: Path, case: str) -> None:
    statements, expected = DAMAGE[case]
    problems = damage(db_path, *statements)
    assert len(problems) == len(expected), problems
    for problem, start in zip(sorted(problems), sorted(expected), strict=True):
        assert problem.startswith(start), problems


def test_a_damaged_database_file_is_reported(db_path: Path) -> None:
    """An index whose pages the schema no longer knows: integrity_check's finding."""
    problems = damage(
        db_path,
        "PRAGMA writable_schema = ON",
        "DELETE FROM sqlite_schema WHERE name = 'members_user'",
    )
    assert problems and problems[0].startswith("integrity_check: "), problems
    assert "never used" in problems[0]


def test_a_healthy_site_reopened_has_no_problem(db_path: Path) -> None:
    assert damage(db_path) == []  # reopening (and migrating) finds nothing either
