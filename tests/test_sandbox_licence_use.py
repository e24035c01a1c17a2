"""The sandbox's licence counts (`licence_use`, store.py; `SiteTx.count_licences`).

A site that owns limited licences has, for each package and option, the number of
its users holding it, kept by the operations that give or take one, so the licence
check of a creation or change reads one row instead of counting the site's users
(which made an apply of 10,000 users on a limited site quadratic). The counts must
always be the users' own: after every kind of write, after a refusal undone in a
batch, when limits are set or lifted, after a seed, and in a file made before the
table existed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from onenet_apply.backends.base import RefusedError
from onenet_apply.backends.sandbox import SandboxBackend, consistency
from onenet_apply.backends.sandbox.context import SiteTx
from onenet_apply.model.plan import Kind
from tests.conftest import EXAMPLE
from tests.sandbox_kit import (
    SITE,
    act,
    at_schema,
    create_user,
    sql_steps,
    user_in_state,
    user_values,
)

LIMITS = {"standard": 500, "professional": 500, "call-centre-standard": 500}


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SandboxBackend]:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    backend.configure(SITE, licences=LIMITS)
    yield backend
    backend.close()


def kept(db: sqlite3.Connection, site: str = SITE) -> dict[str, int]:
    rows = db.execute("SELECT name, used FROM licence_use WHERE site = ?", (site,))
    return {name: used for name, used in rows if used}


def numbered(n: int, **over: object) -> dict[str, object]:
    """Values of user n, for n up to 9,999 (the kit's numbers stop at 99)."""
    return user_values(
        0, number=f"+49301234{n:04d}", extension=f"6{n:04d}", username=f"user.{n}", **over
    )


def test_counts_follow_creation_change_deletion_and_removal(backend: SandboxBackend) -> None:
    user_in_state(backend, "anna", 1, "activated")  # standard + call-centre-standard
    create_user(backend, "ben", 2, package="professional", options=[])
    user_in_state(backend, "cem", 3, "failed", options=[])
    assert kept(backend.db) == {"standard": 2, "professional": 1, "call-centre-standard": 1}

    change = act(Kind.UPDATE_CONFIG, "user", "anna", package="professional", options=[])
    backend.execute(SITE, change)
    assert kept(backend.db) == {"standard": 1, "professional": 2}

    backend.remove(SITE, ["cem"])  # the team removes a failed user: its licence is free
    assert kept(backend.db) == {"professional": 2}
    backend.execute(SITE, act(Kind.DELETE, "user", "anna"))
    assert kept(backend.db) == {"professional": 1}
    assert consistency.check(backend.db, SITE) == []


def test_a_name_held_as_package_and_option_counts_once(tmp_path: Path) -> None:
    """No catalogue names a package and an option alike; should one, a user holding
    the name twice uses one licence, counted afresh or kept."""
    backend = SandboxBackend(tmp_path / "sandbox.db")
    backend.configure(SITE, licences={"standard": 5})
    backend.db.execute(  # as a platform with such a catalogue would hold the user
        "INSERT INTO users (site, id, lifecycle, first_name, last_name, username, number, "
        "extension, package, options, services, desk_phone) VALUES (?, 'x', 'pending', 'X', "
        "'Y', 'x', '+493012345601', '5601', 'standard', '[\"standard\"]', '[]', 'none')",
        (SITE,),
    )
    for table, value in (("numbers", "+493012345601"), ("extensions", "5601")):
        backend.db.execute(f"INSERT INTO {table} VALUES (?, ?, 'user', 'x')", (SITE, value))
    backend.configure(SITE, licences={"standard": 5})  # counted afresh
    assert kept(backend.db) == {"standard": 1}
    assert consistency.check(backend.db, SITE) == []
    tx = SiteTx(backend.db, SITE, backend.catalogue(), "manual", {"standard": 5})
    tx.count_licences((), ["standard", "standard"])  # kept: a second such user
    assert kept(backend.db) == {"standard": 2}


def test_seeding_a_site_with_limits_counts_its_users(tmp_path: Path) -> None:
    from onenet_apply.sitefile.validate import validate_file

    backend = SandboxBackend(tmp_path / "sandbox.db")
    spec = validate_file(str(EXAMPLE)).spec
    backend.configure(spec.site.id, licences={"professional": 100})
    backend.seed(spec)
    assert kept(backend.db, spec.site.id)["professional"] == sum(
        user.package == "professional" for user in spec.users.values()
    )
    assert consistency.check(backend.db, spec.site.id) == []


def test_a_refusal_undone_in_a_batch_leaves_the_counts_of_what_committed(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    backend.configure(SITE, licences={"professional": 1})
    actions = [
        act(Kind.CREATE, "user", "u1", **numbered(1, package="professional", options=[])),
        act(Kind.CREATE, "user", "u2", **numbered(2, package="professional", options=[])),
        act(Kind.CREATE, "user", "u3", **numbered(3, options=[])),
    ]
    result = backend.execute_batch(SITE, actions)
    assert [r.action_id for r in result.results] == [actions[0].id]
    assert "the site owns 1 professional licences; 2 would be needed" in str(result.error)
    assert kept(backend.db) == {"professional": 1}
    assert consistency.check(backend.db, SITE) == []


def test_setting_limits_counts_the_users_there_and_lifting_them_forgets(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    create_user(backend, "anna", 1)
    create_user(backend, "ben", 2, options=[])
    assert kept(backend.db) == {}  # no limits: nothing to keep
    backend.configure(SITE, licences={"standard": 1})
    assert kept(backend.db) == {"standard": 2, "call-centre-standard": 1}
    with pytest.raises(RefusedError, match="owns 1 standard licences; 3 would be needed"):
        create_user(backend, "cem", 3)
    assert kept(backend.db) == {"standard": 2, "call-centre-standard": 1}  # undone
    backend.configure(SITE, licences={})
    assert kept(backend.db) == {}
    create_user(backend, "cem", 3, options=[])
    assert kept(backend.db) == {}
    assert consistency.check(backend.db, SITE) == []


def test_a_count_out_of_step_is_reported_by_the_consistency_check(
    backend: SandboxBackend,
) -> None:
    create_user(backend, "anna", 1)
    backend.db.execute("UPDATE licence_use SET used = used + 1 WHERE name = 'standard'")
    assert consistency.check(backend.db, SITE) == [
        "licences in use: kept {'call-centre-standard': 1, 'standard': 2}, "
        "counted {'call-centre-standard': 1, 'standard': 1}"
    ]


def test_a_file_from_before_the_counts_is_migrated_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sandbox.db"
    with at_schema(monkeypatch, 3):  # the file as version 3 wrote it
        backend = SandboxBackend(path)
        create_user(backend, "anna", 1)
        create_user(backend, "ben", 2, package="professional", options=[])
        backend.db.execute("UPDATE sites SET licences = '{\"standard\": 1}' WHERE id = ?", (SITE,))
        backend.close()
    backend = SandboxBackend(path)
    assert kept(backend.db) == {"standard": 1, "professional": 1, "call-centre-standard": 1}
    assert consistency.check(backend.db, SITE) == []
    refused = backend.execute_batch(SITE, [act(Kind.CREATE, "user", "cem", **user_values(3))])
    assert "the site owns 1 standard licences; 2 would be needed" in str(refused.error)


def test_a_creation_costs_no_more_on_a_site_with_ten_times_the_users(
    backend: SandboxBackend,
) -> None:
    """The check reads the kept count: counting the users would cost ten times more."""
    for n in range(20):
        create_user(backend, f"u{n}", n, **numbered(n, options=[]))
    few = sql_steps(backend, lambda: create_user(backend, "u20", 20, **numbered(20)))
    for n in range(21, 300):
        create_user(backend, f"u{n}", n, **numbered(n, options=[]))
    many = sql_steps(backend, lambda: create_user(backend, "u300", 300, **numbered(300)))
    assert many < 1.5 * few, (few, many)


# the triggers schema 4 was first written with, as a file made by that build holds them
FIRST_SCHEMA_4_TRIGGER = """
CREATE TRIGGER licence_use_insert AFTER INSERT ON users
WHEN (SELECT licences FROM sites WHERE id = NEW.site) IS NOT NULL
BEGIN
    INSERT INTO licence_use (site, name, used)
        SELECT NEW.site, name, 1 FROM (SELECT NEW.package AS name UNION
        SELECT value FROM json_each(NEW.options)) WHERE true
        ON CONFLICT (site, name) DO UPDATE SET used = used + 1;
END
"""


def test_a_file_with_the_first_schema_4_triggers_loses_them_and_counts_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sandbox.db"
    with at_schema(monkeypatch, 5):
        backend = SandboxBackend(path)
        backend.configure(SITE, licences={"standard": 3})
        backend.db.execute(FIRST_SCHEMA_4_TRIGGER)
        create_user(backend, "anna", 1)
        assert kept(backend.db)["standard"] == 2  # counted by the trigger and the operation
        backend.close()
    backend = SandboxBackend(path)
    triggers = backend.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    assert triggers.fetchall() == []
    assert kept(backend.db) == {"standard": 1, "call-centre-standard": 1}
    create_user(backend, "ben", 2, options=[])
    assert kept(backend.db) == {"standard": 2, "call-centre-standard": 1}
    assert consistency.check(backend.db, SITE) == []
