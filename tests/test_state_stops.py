"""A run the state store stops after it issued login details: the history refused
its action rows (here a constraint on the table), so the apply or credentials
reset fails with one line, and says where the login details it wrote are (the
only place they are); the history holds none of them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import psycopg
import pytest

from onenet_apply.store.schema import ensure_schema
from tests.conftest import EXAMPLE

SITE = "berlin-hq"


@pytest.fixture
def refusing_store(pg_url: str, monkeypatch: pytest.MonkeyPatch, workdir: Path) -> str:
    """A store whose history takes no action row of a user (every batch has one)."""
    monkeypatch.setenv("ONENET_STATE", pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        ensure_schema(conn, "the test's store")
        conn.execute(
            "ALTER TABLE onenet_run_actions ADD CONSTRAINT no_users "
            "CHECK (action_id NOT LIKE 'user/%')"
        )
    return pg_url


def passwords(path: Path) -> list[str]:
    with path.open(newline="") as f:
        return [row["password"] for row in csv.DictReader(f) if row["password"]]


def test_an_apply_stopped_by_the_history_says_where_its_login_details_are(
    onenet, refusing_store: str, workdir: Path
) -> None:
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "issued.csv")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert "could not write the history of site berlin-hq" in result.err
    issued = passwords(workdir / "issued.csv")
    assert len(issued) == 11  # the batch ran: its login details are in the file
    assert "11 desk phone login details to issued.csv; keep it safe" in result.err
    with psycopg.connect(refusing_store) as conn:
        dump = str(conn.execute("SELECT array_agg(r::text) FROM onenet_runs r").fetchall())
    assert [p for p in issued if p in dump] == []


def test_a_reset_stopped_by_the_history_says_where_its_login_details_are(
    onenet, pg_url: str, refusing_store: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONENET_STATE")  # the site is set up without the store
    assert onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "first.csv").code == 3
    assert onenet("sandbox", "activate", "--site", SITE, "--all").code == 0
    monkeypatch.setenv("ONENET_STATE", pg_url)
    result = onenet(
        "credentials", "reset", "--site", SITE, "anna", "ben", "--credentials-out", "reset.csv"
    )
    assert result.code == 1
    assert "Traceback" not in result.err
    assert "could not write the history of site berlin-hq" in result.err
    issued = passwords(workdir / "reset.csv")
    assert len(issued) == 2  # anna's ran, then ben's before anna's rows were refused
    assert "2 desk phone login details to reset.csv; keep it safe" in result.err


def test_a_run_whose_rows_the_history_refused_is_recorded_as_failed_saying_why(
    onenet, refusing_store: str
) -> None:
    """Its actions would otherwise be `pending` with none of them listed, and nothing
    saying why, though the apply failed."""
    assert onenet("apply", str(EXAMPLE), "--yes").code == 1
    shown = onenet("history", "--site", SITE, "--format", "json")
    assert shown.code == 0, shown.err
    (run,) = json.loads(shown.out)["runs"]
    assert run["outcome"] == "failed"
    assert run["summary"]["applied"] == 19 and run["actions"] == []
    assert "violates check constraint" in run["message"]
    assert "The outcomes of the last 19 actions are not in the history" in run["message"]


def test_a_store_that_takes_no_second_connection_stops_the_apply_before_any_change(
    onenet, pg_team_url: str, pg_team_password: str, pg_team, pg_admin, monkeypatch, workdir: Path
) -> None:
    """The action rows' connection is opened before the first batch: a role allowed
    one connection (or a server at max_connections) holds the lock, cannot take
    the history, and so applies nothing."""
    from psycopg import sql

    from onenet_apply.backends.sandbox import SandboxBackend

    monkeypatch.setenv("ONENET_STATE", pg_team_url)
    monkeypatch.setenv("PGPASSWORD", pg_team_password)
    role = sql.Identifier(pg_team.name)
    pg_admin.execute(sql.SQL("ALTER ROLE {} CONNECTION LIMIT 1").format(role))
    try:
        result = onenet("apply", str(EXAMPLE), "--yes")
    finally:
        pg_admin.execute(sql.SQL("ALTER ROLE {} CONNECTION LIMIT -1").format(role))
    assert result.code == 1
    assert "Traceback" not in result.err
    assert "too many connections" in result.err and "nothing ran unrecorded" in result.err
    assert pg_team_password not in result.out + result.err
    sandbox = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    try:
        assert sandbox.read_state(SITE).users == {}
    finally:
        sandbox.close()
    assert not list(workdir.glob("onenet-credentials-*.csv"))
