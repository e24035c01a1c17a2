"""The PostgreSQL test kit keeps its promises: tools/throwaway_postgres.py starts,
restarts and stops a cluster and prints a URL without a password; the team role
must give its password; the fixtures give each test a schema of its own; a missing
server skips outside CI and fails in it; and the transaction pooler hands each
transaction to another server session, as PgBouncer in transaction mode does."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT
from tests.pg_kit import PgAdmin, PrivateServer, cluster_directory, fresh_schema, session_server
from tests.pg_pooler_kit import TransactionPooler
from tools import throwaway_postgres as throwaway

TOOL = ROOT / "tools" / "throwaway_postgres.py"


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=120
    )


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            return connection.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


@pytest.fixture
def no_stored_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No password from the environment or ~/.pgpass unless a test sets one."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


def test_the_tool_starts_restarts_and_stops_a_cluster(
    monkeypatch: pytest.MonkeyPatch, no_stored_password: None
) -> None:
    with cluster_directory() as directory:
        started = tool("start", str(directory))
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        server = throwaway.server(directory)
        assert url == server.url == f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
        assert server.team_password not in started.stdout + started.stderr
        assert stat.S_IMODE((directory / throwaway.PASSWORD_FILE).stat().st_mode) == 0o600
        assert answers(url)

        # the team role: refused without its password, let in with it from PGPASSWORD
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(server.team_url, connect_timeout=5)
        monkeypatch.setenv("PGPASSWORD", server.team_password)
        with psycopg.connect(server.team_url) as team:
            team.execute("CREATE SCHEMA team_work")
            assert team.execute("SELECT current_user").fetchone() == ("onenet_team",)
            superuser = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            assert team.execute(superuser).fetchone() == (False,)
            team.commit()
        monkeypatch.delenv("PGPASSWORD")

        restarted = tool("restart", str(directory))
        assert (restarted.returncode, restarted.stdout.strip()) == (0, url)
        assert answers(url)
        assert tool("stop", str(directory)).returncode == 0
        assert not answers(url)
        again = tool("stop", str(directory))
        assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
        log = (directory / throwaway.LOG_FILE).read_text()
        assert server.team_password not in log


def test_private_pg_stops_starts_and_restarts_on_one_url(private_pg: PrivateServer) -> None:
    url = private_pg.url
    assert answers(url)
    private_pg.restart()
    assert private_pg.url == url and answers(url)
    private_pg.stop()
    assert not answers(url)
    private_pg.start()
    assert private_pg.url == url and answers(url)


def test_missing_binaries_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(throwaway.glob, "glob", lambda pattern: [])
    assert not throwaway.available()
    assert throwaway.main(["start", str(tmp_path / "cluster")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "initdb" in err and "PostgreSQL server" in err
    assert not (tmp_path / "cluster").exists()
    assert throwaway.main(["begin", "x"]) == 2


def test_no_server_skips_outside_ci_and_fails_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONENET_TEST_POSTGRES", raising=False)
    monkeypatch.setattr(throwaway, "available", lambda: False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="ONENET_TEST_POSTGRES"), session_server():
        pass
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(throwaway, "available", lambda: True)  # CI starts none of its own
    with (
        pytest.raises(pytest.fail.Exception, match="ONENET_TEST_POSTGRES, which is not set"),
        session_server(),
    ):
        pass


def test_a_named_server_that_does_not_answer_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ONENET_TEST_POSTGRES", "postgresql://postgres:not-shown@127.0.0.1:1/postgres"
    )
    with pytest.raises(pytest.fail.Exception, match="does not answer") as failed, session_server():
        pass
    assert "not-shown" not in str(failed.value)


def test_each_test_gets_schemas_of_its_own(
    pg_url: str,
    pg_team_url: str,
    pg_team_password: str,
    pg_admin: PgAdmin,
    monkeypatch: pytest.MonkeyPatch,
    no_stored_password: None,
) -> None:
    assert pg_team_password not in pg_team_url
    with psycopg.connect(pg_url, autocommit=True) as mine:
        schema = mine.execute("SELECT current_schema()").fetchone()[0]
        mine.execute("CREATE TABLE t (n int)")
    monkeypatch.setenv("PGPASSWORD", pg_team_password)
    with psycopg.connect(pg_team_url, autocommit=True) as team:
        team_schema = team.execute("SELECT current_schema()").fetchone()[0]
        team.execute("CREATE TABLE t (n int)")
    assert schema != team_schema and schema.startswith("test_")
    found = pg_admin.rows(
        "SELECT table_schema, tableowner FROM information_schema.tables"
        " JOIN pg_tables ON schemaname = table_schema AND tablename = table_name"
        " WHERE table_name = 't' AND table_schema = ANY(%s) ORDER BY table_schema",
        [[schema, team_schema]],
    )
    assert len(found) == 2
    assert dict(found)[team_schema].startswith("onenet_team_")


def test_a_fresh_schema_is_dropped_with_its_tables(pg_admin: PgAdmin) -> None:
    with fresh_schema(pg_admin) as schema:
        pg_admin.execute(f"CREATE TABLE {schema}.t (n int)")
    assert pg_admin.rows("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]) == []


def test_the_pooler_runs_each_transaction_on_another_session(pg_url: str) -> None:
    with TransactionPooler(pg_url) as pooled, psycopg.connect(pooled, autocommit=True) as client:
        first = client.execute("SELECT pg_backend_pid()").fetchone()
        second = client.execute("SELECT pg_backend_pid()").fetchone()
        assert first != second
        client.execute("SELECT pg_advisory_lock(42)")
        held = client.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ).fetchone()
        assert held == (0,)
        # a transaction stays on one session until it ends
        with client.transaction():
            inside = {client.execute("SELECT pg_backend_pid()").fetchone() for _ in range(3)}
        assert len(inside) == 1
        assert client.execute("SHOW search_path").fetchone()[0] in pg_url


def test_the_pooler_refuses_a_login_it_cannot_make(
    pg_team_url: str,
    pg_team_password: str,
    monkeypatch: pytest.MonkeyPatch,
    no_stored_password: None,
) -> None:
    if answers(pg_team_url):
        pytest.skip("this server lets the team role in without a password")
    monkeypatch.setenv("PGPASSWORD", pg_team_password)
    with (
        TransactionPooler(pg_team_url) as pooled,
        pytest.raises(psycopg.OperationalError, match="trusts"),
    ):
        psycopg.connect(pooled, connect_timeout=5)
