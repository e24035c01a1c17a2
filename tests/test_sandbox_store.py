"""The sandbox file: versioned schema, migrations, refusal of newer files, durability settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.store import (
    PAGE_SIZE,
    SCHEMA_VERSION,
    StoreVersionError,
    connect,
    statements,
)
from tests.sandbox_kit import at_schema


def test_new_file_is_created_at_the_current_version_with_durable_settings(tmp_path: Path) -> None:
    db = connect(tmp_path / "deep" / "dir" / "sandbox.db")
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert int(version) == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_opening_again_migrates_nothing_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    SandboxBackend(path).configure("berlin", activation="immediate")
    backend = SandboxBackend(path)
    assert backend.settings("berlin")["activation"] == "immediate"


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path, onenet) -> None:
    path = tmp_path / "sandbox.db"
    connect(path).execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreVersionError, match="newer onenet"):
        connect(path)
    result = onenet("sandbox", "status", "--site", "x", "--backend", f"sandbox:{path}")
    assert result.code == 1
    assert "written by a newer onenet (schema 999)" in result.err
    assert "Traceback" not in result.err


def test_an_old_unversioned_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    sqlite3.connect(path).close()  # an empty file: version 0
    db = connect(path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "sites",
        "users",
        "groups",
        "numbers",
        "extensions",
        "members",
        "journal",
        "locks",
    } <= tables


def test_page_size_applies_to_new_files_only(tmp_path: Path) -> None:
    """Existing sandboxes keep their page size; SQLite cannot change it in WAL mode."""
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("PRAGMA page_size=4096")
    old.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")  # a sandbox
    old.close()
    assert connect(tmp_path / "old.db").execute("PRAGMA page_size").fetchone()[0] == 4096
    assert connect(tmp_path / "new.db").execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE


def test_journal_time_stamps_follow_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stamp is formatted once a second; a new second gives a new stamp."""
    from onenet_apply.backends.sandbox import store

    clock = iter([86400.2, 86400.9, 86401.0])
    monkeypatch.setattr(store.time, "time", lambda: next(clock))
    assert [store.now_iso() for _ in range(3)] == [
        "1970-01-02T00:00:00Z",
        "1970-01-02T00:00:00Z",
        "1970-01-02T00:00:01Z",
    ]


def test_a_later_migration_runs_once_keeps_the_data_and_is_atomic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The migration path an upgrade takes: older files move up in one transaction."""
    from onenet_apply.backends.sandbox import store

    path = tmp_path / "sandbox.db"
    SandboxBackend(path).configure("berlin", activation="immediate")
    released, later = store.MIGRATIONS, store.SCHEMA_VERSION + 1
    broken = "ALTER TABLE sites ADD COLUMN region TEXT;\nTHIS IS NOT SQL;\n"
    monkeypatch.setattr(store, "MIGRATIONS", (*released, broken))
    monkeypatch.setattr(store, "SCHEMA_VERSION", later)
    with pytest.raises(sqlite3.OperationalError):
        connect(path)
    columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(sites)")]
    assert "region" not in columns  # all of a migration or none of it

    monkeypatch.setattr(store, "MIGRATIONS", (*released, broken.split("\n")[0] + "\n"))
    db = connect(path)
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == str(later)
    assert db.execute("SELECT id, activation, region FROM sites").fetchall() == [
        ("berlin", "immediate", None)
    ]
    db.close()
    connect(path).close()  # opening again runs nothing: the column is not added twice


def test_a_file_from_before_the_lookup_indexes_gains_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 5 indexes who forwards and transfers to a number (store.FORWARD_TO)."""
    path = tmp_path / "sandbox.db"
    with at_schema(monkeypatch, 4):
        SandboxBackend(path).configure("berlin", activation="immediate")
    indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%_to'"
    assert sqlite3.connect(path).execute(indexes).fetchall() == []
    db = connect(path)
    assert sorted(r[0] for r in db.execute(indexes)) == ["groups_forward_to", "users_transfer_to"]


def test_a_trigger_body_is_one_statement_of_a_migration() -> None:
    script = (
        "CREATE TABLE t (a);\n"
        "CREATE TRIGGER t_a AFTER INSERT ON t BEGIN\n"
        "    UPDATE t SET a = 1;\n"
        "    UPDATE t SET a = 2;\n"
        "END;\n"
        "THIS IS NOT SQL\n"
    )
    assert list(statements(script)) == [
        "CREATE TABLE t (a);\n",
        "CREATE TRIGGER t_a AFTER INSERT ON t BEGIN\n    UPDATE t SET a = 1;\n"
        "    UPDATE t SET a = 2;\nEND;\n",
        "THIS IS NOT SQL\n",
    ]
