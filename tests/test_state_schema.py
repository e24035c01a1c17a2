"""The store's tables and connections, against a real PostgreSQL: migrations applied
on first use, all or nothing, once under a race; a newer schema refused; a reader
that creates nothing; connection failures as one line without a password."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from onenet_apply.store.actor import current_actor
from onenet_apply.store.address import StateAddress
from onenet_apply.store.connection import connect
from onenet_apply.store.errors import StoreError
from onenet_apply.store.schema import LATEST, MIGRATIONS, Migration, current_version, ensure_schema
from onenet_apply.store.session import open_store
from tests.conftest import EXAMPLE
from tests.pg_kit import PgAdmin

TABLES = ["onenet_run_actions", "onenet_runs", "onenet_schema_version", "onenet_site_locks"]


def tables(pg_admin: PgAdmin, url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() ORDER BY 1"
            )
        ]


def test_first_use_creates_every_table_at_the_latest_version(pg_url: str, pg_admin) -> None:
    store = open_store(StateAddress(pg_url), current_actor("test"))
    try:
        assert store.has_tables and current_version(store.conn) == LATEST
        rows = store.conn.execute("SELECT version, what FROM onenet_schema_version").fetchall()
        assert rows == [(m.version, m.what) for m in MIGRATIONS]
    finally:
        store.close()
    assert tables(pg_admin, pg_url) == TABLES
    again = open_store(StateAddress(pg_url), current_actor("test"))  # a no-op the second time
    again.close()
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM onenet_schema_version").fetchone() == (
            len(MIGRATIONS),
        )


def test_a_failing_migration_leaves_nothing_behind(pg_url: str, pg_admin) -> None:
    broken = (*MIGRATIONS, Migration(LATEST + 1, "broken", "CREATE TABLE onenet_x (a int); SELEC"))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        with pytest.raises(StoreError, match="nothing was changed"):
            ensure_schema(conn, "the test store", broken)
        assert current_version(conn) == 0
    assert tables(pg_admin, pg_url) == []  # not the first migration, not the version table


def test_a_failing_later_migration_keeps_the_earlier_version(pg_url: str, pg_admin) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        ensure_schema(conn, "the test store")
        broken = (*MIGRATIONS, Migration(LATEST + 1, "broken", "ALTER TABLE nowhere ADD b int"))
        with pytest.raises(StoreError, match="could not set up"):
            ensure_schema(conn, "the test store", broken)
        assert current_version(conn) == LATEST
    assert tables(pg_admin, pg_url) == TABLES


def test_two_first_uses_at_once_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def first_use() -> None:
        try:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                start.wait()
                ensure_schema(conn, "the test store")
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM onenet_schema_version").fetchone() == (
            len(MIGRATIONS),
        )


def test_a_newer_schema_is_refused_and_nothing_is_applied(
    pg_url: str, onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store(StateAddress(pg_url), current_actor("test")).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO onenet_schema_version (version, what) VALUES (%s, 'from the future')",
            (LATEST + 1,),
        )
    monkeypatch.setenv("ONENET_STATE", pg_url)
    result = onenet("apply", str(EXAMPLE), "--yes")
    assert result.code == 1
    assert f"schema version {LATEST + 1}, newer than this onenet knows ({LATEST})" in result.err
    assert "upgrade onenet" in result.err and "Traceback" not in result.err
    assert onenet("sandbox", "status", "--site", "berlin-hq").code == 1  # no site was made
    history = onenet("history", "--site", "berlin-hq")
    assert history.code == 1 and "newer than this onenet knows" in history.err


def test_a_store_of_an_earlier_version_is_read_as_it_is_and_brought_up_on_the_next_apply(
    pg_url: str, onenet, monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    """Version 1 (before runs recorded their file's digest): `onenet history` reads
    it unchanged; the next apply migrates it, keeping the runs already there."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert ensure_schema(conn, "test", MIGRATIONS[:1]) == 1
        conn.execute(
            "INSERT INTO onenet_runs (kind, site, platform, os_user, host, pid, command) "
            "VALUES ('apply', 'berlin-hq', 'sandbox:x#berlin-hq', 'anna', 'ci', 7, 'onenet apply')"
        )
    monkeypatch.setenv("ONENET_STATE", pg_url)
    read = onenet("history", "--site", "berlin-hq")
    assert read.code == 0 and "by anna@ci pid 7" in read.out and "  file " not in read.out
    with psycopg.connect(pg_url) as conn:
        assert current_version(conn) == 1
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    with psycopg.connect(pg_url) as conn:
        assert current_version(conn) == LATEST == 2
        digests = conn.execute("SELECT source_digest FROM onenet_runs ORDER BY id").fetchall()
    assert digests[0] == ("",) and digests[1][0].startswith("sha256:")


def test_a_reader_of_an_unused_store_creates_nothing(pg_url: str, pg_admin, onenet) -> None:
    result = onenet("history", "--site", "berlin-hq", "--state", pg_url)
    assert result.code == 0 and "No runs recorded for site berlin-hq" in result.out
    assert tables(pg_admin, pg_url) == []


def test_a_server_that_does_not_answer_is_one_line_without_the_password(
    pg_team_password: str,
) -> None:
    url = f"postgresql://onenet_team:{pg_team_password}@127.0.0.1:1/onenet?connect_timeout=2"
    with pytest.raises(StoreError) as refused:
        connect(StateAddress(url, "$ONENET_STATE"), "test")
    message = str(refused.value)
    assert message.startswith("cannot reach the state store postgresql://onenet_team:***@")
    assert "\n" not in message and pg_team_password not in message


def test_a_wrong_password_is_named_and_not_shown(
    private_pg, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a cluster of the test's own, whose team role must give its password."""
    password = private_pg.team_password
    monkeypatch.delenv("PGPASSFILE", raising=False)
    monkeypatch.setenv("PGPASSWORD", "not-" + password)
    with pytest.raises(StoreError) as refused:
        connect(StateAddress(private_pg.team_url), "test")
    assert "password authentication failed" in str(refused.value)
    assert password not in str(refused.value)
    monkeypatch.setenv("PGPASSWORD", password)
    connect(StateAddress(private_pg.team_url), "test").close()


def test_a_connection_without_a_schema_is_told_how_to_give_one(pg_server: str) -> None:
    from tests.pg_kit import with_schema

    url = with_schema(pg_server, "no_such_schema_anywhere")
    with pytest.raises(StoreError, match="search_path"):
        open_store(StateAddress(url), current_actor("test"))


def test_the_connection_is_named_after_the_command_and_site(pg_url: str, pg_admin) -> None:
    store = open_store(StateAddress(pg_url), current_actor("onenet apply"), "berlin-hq")
    try:
        pid = store.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        name = pg_admin.value("SELECT application_name FROM pg_stat_activity WHERE pid = %s", [pid])
        assert name.startswith("onenet apply berlin-hq pid ")
        assert store.conn.autocommit
    finally:
        store.close()


def test_libpqs_environment_fills_in_what_the_url_leaves_out(
    pg_url: str, onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(pg_url)
    for variable, key in (("PGHOST", "host"), ("PGPORT", "port"), ("PGUSER", "user"),
                          ("PGDATABASE", "dbname"), ("PGOPTIONS", "options")):  # fmt: skip
        monkeypatch.setenv(variable, str(given[key]))
    result = onenet("apply", str(EXAMPLE), "--yes", "--state", "postgresql://")
    assert result.code == 3, result.err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM onenet_runs").fetchone() == (1,)
