"""The apply history (store/history.py, runs.py, cli/history.py) against a real
PostgreSQL, through the CLI: every apply, saved-plan apply and credentials reset
recorded with who, from what, each action's outcome and the summary; a dead run
shown as interrupted; `--since`, `--limit`, text and JSON; no secret in any table;
and, without a store, the sandbox's journal through the same command."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from tests.conftest import EXAMPLE

BATCH = SandboxBackend.batch_size  # the sandbox's ready actions per batch
SITE = "berlin-hq"
CHOSEN = "Chosen-Pass-42"


@pytest.fixture
def with_store(pg_url: str, monkeypatch: pytest.MonkeyPatch, workdir: Path) -> str:
    monkeypatch.setenv("ONENET_STATE", pg_url)
    monkeypatch.setenv("ONENET_CI_RUN", "nightly-17")
    for variable in ("GITHUB_RUN_ID", "CI_JOB_URL", "BUILD_URL"):
        monkeypatch.delenv(variable, raising=False)
    return pg_url


def runs(onenet, *extra: str) -> list[dict]:
    result = onenet("history", "--site", SITE, "--format", "json", *extra)
    assert result.code == 0, result.err
    return json.loads(result.out)["runs"]


def test_each_apply_is_recorded_with_who_what_and_each_outcome(onenet, with_store: str) -> None:
    first = onenet("apply", str(EXAMPLE), "--yes")
    assert first.code == 3
    onenet("sandbox", "activate", "--site", SITE, "--all")
    assert onenet("apply", str(EXAMPLE), "--yes").code == 0
    recorded = runs(onenet)
    assert [(r["kind"], r["outcome"]) for r in recorded] == [("apply", "pending"), ("apply", "ok")]
    one, two = recorded
    assert one["summary"] == {
        "applied": 19, "deferred": 4, "blocked": 0, "gated": 0, "failed": 0, "unreviewed": 0,
    }  # fmt: skip
    assert len(one["actions"]) == 19 and {a["outcome"] for a in one["actions"]} == {"ok"}
    assert one["actions"][0]["action_id"] == "user/anna/create"
    assert one["actions"][0]["message"].startswith("create user/anna (first_name, ")
    assert [a["action_id"] for a in two["actions"]][-1] == "call_centre/support/set-members"
    assert one["command"] == "onenet apply" and one["ci_run"] == "nightly-17"
    assert one["source_file"] == "examples/site.yaml"  # as the repository names it
    assert len(one["source_commit"].removesuffix("+changes")) == 40
    assert one["platform"].startswith("sandbox:") and one["platform"].endswith(f"#{SITE}")
    import hashlib

    assert one["source_digest"] == "sha256:" + hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert (one["plan_digest"], one["spec_digest"], one["state_digest"]) == ("", "", "")
    assert one["finished_at"] >= one["started_at"]
    text = onenet("history", "--site", SITE)
    assert text.code == 0
    assert f"apply #{one['id']} of site {SITE}: pending" in text.out
    assert "  19 applied, 4 deferred, 0 blocked, 0 gated, 0 failed\n" in text.out
    assert "    ok  user/anna/create  create user/anna (" in text.out
    assert "CI run nightly-17" in text.out and "from examples/site.yaml at commit " in text.out
    assert f"  file {one['source_digest']}\n" in text.out


def test_a_saved_plan_records_its_digest_and_a_refusal_its_reason(
    onenet, with_store: str, workdir: Path
) -> None:
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0
    saved = json.loads((workdir / "plan.json").read_text())
    assert onenet("apply", "plan.json", "--yes").code == 3
    (recorded,) = runs(onenet)
    assert recorded["plan_digest"] == saved["plan_digest"]
    assert (recorded["spec_digest"], recorded["state_digest"]) == (
        saved["spec_digest"], saved["state_digest"]
    )  # fmt: skip
    assert recorded["source_file"].endswith("plan.json")


def test_since_and_limit_choose_the_runs(onenet, with_store: str) -> None:
    for _ in range(3):
        onenet("apply", str(EXAMPLE), "--yes")
    assert len(runs(onenet)) == 3
    latest = runs(onenet, "--limit", "2")
    assert [r["id"] for r in latest] == [r["id"] for r in runs(onenet)][1:]
    assert runs(onenet, "--since", "2999-01-01") == []
    assert len(runs(onenet, "--since", "1h")) == 3
    assert len(runs(onenet, "--limit", "0")) == 3
    other = onenet("history", "--site", "munich")
    assert other.code == 0 and "No runs recorded for site munich" in other.out


def test_a_run_whose_process_died_is_shown_as_interrupted(
    onenet, with_store: str, workdir: Path
) -> None:
    """A process killed mid-run leaves its row `running`; its session is gone."""
    script = (
        "import os, signal\n"
        "from onenet_apply.apply import ledger\n"
        "def die(self):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "from onenet_apply.store.history import RunLog\n"
        "RunLog.record = lambda self, outcomes: os.kill(os.getpid(), signal.SIGKILL)\n"
        "import sys\n"
        "from onenet_apply.console import main\n"
        "sys.argv = ['onenet', 'apply', sys.argv[1], '--yes']\n"
        "main()\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script, str(EXAMPLE)], cwd=workdir, capture_output=True, text=True
    )
    assert killed.returncode == -9
    (recorded,) = runs(onenet)
    assert recorded["outcome"] == "interrupted" and recorded["finished_at"] is None
    assert recorded["message"] == "its process ended before it finished"
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3  # the lock went with it


def test_a_credentials_reset_is_recorded_without_a_secret(
    onenet, with_store: str, pg_admin, monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "first.csv")
    onenet("sandbox", "activate", "--site", SITE, "--all")
    onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "second.csv")
    reset = onenet(
        "credentials", "reset", "--site", SITE, "--all", "--yes", "--credentials-out", "r.csv"
    )
    assert reset.code == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(CHOSEN + "\n"))
    chosen = ("credentials", "reset", "--site", SITE, "anna", "nobody-has-this-id")
    assert onenet(*chosen, "--password-stdin", "--credentials-out", "c.csv").code == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO(CHOSEN + "\n"))
    assert onenet(*chosen[:-1], "--password-stdin", "--credentials-out", "c2.csv").code == 0
    recorded = [r for r in runs(onenet) if r["kind"] == "credentials-reset"]
    assert [r["outcome"] for r in recorded] == ["ok", "failed", "ok"]
    everyone, refused, one = recorded
    assert everyone["summary"]["reset"] == len(read_csv(workdir / "r.csv"))
    assert {a["message"] for a in everyone["actions"]} == {"new desk phone login details issued"}
    assert "no such user" in refused["message"]
    assert [(a["action_id"], a["message"]) for a in one["actions"]] == [
        ("user/anna/reset-login", "password set")
    ]
    secrets = {CHOSEN} | {
        row["password"] for name in ("first.csv", "second.csv", "r.csv", "c2.csv")
        if (workdir / name).exists() for row in read_csv(workdir / name)
    }  # fmt: skip
    assert len(secrets) > 10
    dump = dump_tables(with_store)
    assert SITE in dump and "user/anna/reset-login" in dump  # the scan reads what is there
    assert [s for s in secrets if s in dump] == []


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def dump_tables(url: str) -> str:
    """Every row of every table in the store's schema, as text."""
    with psycopg.connect(url) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        ]
        return "\n".join(
            str(row) for name in names for row in conn.execute(f'SELECT * FROM "{name}"')
        )


# -- without a store: the sandbox's journal ------------------------------------------


def test_without_a_store_history_reads_the_sandboxs_journal(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONENET_STATE", raising=False)
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    onenet("sandbox", "activate", "--site", SITE, "--all")
    entries = json.loads(onenet("history", "--site", SITE, "--format", "json", "--limit", "0").out)
    journal = entries["journal"]
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    assert [e["action_id"] for e in journal] == [e.action_id for e in backend.journal(SITE)]
    backend.close()
    assert journal[0]["action_id"] == "user/anna/create" and journal[0]["outcome"] == "ok"
    assert any(e["detail"] == "carrier: activated" for e in journal)
    text = onenet("history", "--site", SITE, "--limit", "2")
    assert text.code == 0 and len(text.out.splitlines()) == 2
    assert text.out.splitlines()[-1].split()[0] == str(journal[-1]["seq"])
    assert onenet("history", "--site", SITE, "--since", "2999-01-01").out == (
        f"No journal entries for site {SITE}.\n"
    )


def test_a_backend_without_a_journal_asks_for_a_store(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONENET_STATE", raising=False)
    monkeypatch.setenv("ONENET_OCIP_USER", "admin")
    monkeypatch.setenv("ONENET_OCIP_PASSWORD", "x")
    result = onenet("history", "--site", SITE, "--backend", "ocip://127.0.0.1:1/ent")
    assert result.code == 1
    assert "keeps no journal" in result.err and "--state" in result.err


@pytest.mark.parametrize("history_server", ["answers", "gone"])
def test_a_lost_lock_stops_the_apply_before_its_next_batch(
    pg_url: str, pg_admin, tmp_path: Path, history_server: str
) -> None:
    """The store's ledger checks the lock before each batch: the lock's session
    ended during the first batch, so the second never runs, and the history keeps
    the first batch's actions."""
    from onenet_apply.apply.applier import apply_site
    from onenet_apply.backends.base import platform_name
    from onenet_apply.planning.planner import PlanOptions
    from onenet_apply.store.actor import current_actor
    from onenet_apply.store.address import StateAddress
    from onenet_apply.store.errors import LockLostError, StoreError
    from onenet_apply.store.session import open_store
    from tests.test_safety_promises import SITE as SMALL_SITE
    from tests.test_safety_promises import nothing, site_file

    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    store = open_store(StateAddress(pg_url), current_actor("onenet apply"), SMALL_SITE)
    locks = store.locks(lambda site: platform_name(backend, site))
    opened: list[psycopg.Connection] = []
    if history_server == "gone":  # the rows' connection opens, then the server is gone
        first_connection = store.another_connection

        def only_once() -> psycopg.Connection:
            if opened:
                raise StoreError("cannot reach the state store")
            opened.append(first_connection())
            return opened[0]

        store.another_connection = only_once  # type: ignore[method-assign]
    ledger = store.run_log("apply", SMALL_SITE, locks)
    executed = backend.execute_batch

    def batch_then_lose_the_lock(site: str, actions, record):  # type: ignore[no-untyped-def]
        result = executed(site, actions, record)
        sessions = [locks.session_pid, *(c.info.backend_pid for c in opened)]
        pg_admin.execute(  # and wait until they are gone, as the check looks without asking
            "SELECT pg_terminate_backend(pid, 5000) FROM unnest(%s::int[]) pid", [sessions]
        )
        return result

    backend.execute_batch = batch_then_lose_the_lock  # type: ignore[method-assign]
    spec = site_file(tmp_path / "site.yaml", range(BATCH + 20))
    with pytest.raises(LockLostError, match="stopped before the next batch") as lost:
        apply_site(backend, spec, PlanOptions(), nothing, locks=locks, ledger=ledger)
    store.close()
    assert len(backend.read_state(SMALL_SITE).users) == BATCH
    backend.close()
    missing = f"The outcomes of the last batch ({BATCH} actions) are not in the history"
    if history_server == "gone":
        assert missing in str(lost.value)
        return
    assert missing not in str(lost.value)
    with psycopg.connect(pg_url) as conn:
        outcome, message = conn.execute("SELECT outcome, message FROM onenet_runs").fetchone()
        (actions,) = conn.execute("SELECT count(*) FROM onenet_run_actions").fetchone()
    assert (outcome, actions) == ("failed", BATCH)  # the batch that ran is recorded
    assert message.startswith(f"lost the lock of site {SMALL_SITE}")


@pytest.fixture
def one_run(pg_url: str, pg_admin):  # type: ignore[no-untyped-def]
    """A store, the site's lock and a begun run's ledger; closed after the test."""
    from onenet_apply.store.actor import current_actor
    from onenet_apply.store.address import StateAddress
    from onenet_apply.store.session import open_store

    store = open_store(StateAddress(pg_url), current_actor("onenet apply"), SITE)
    locks = store.locks(lambda site: f"test#{site}")
    ledger = store.run_log("apply", SITE, locks)
    with locks.lock(SITE, 5, "onenet apply"):
        ledger.begin()
        yield store, locks, ledger
    store.close()


def outcomes(*names: str):  # type: ignore[no-untyped-def]
    from onenet_apply.apply.ledger import ActionOutcome

    return [ActionOutcome(f"user/{n}/create", "ok", f"create user/{n}") for n in names]


def recorded(pg_url: str) -> list[tuple[int, str]]:
    with psycopg.connect(pg_url) as conn:
        return conn.execute("SELECT seq, action_id FROM onenet_run_actions ORDER BY seq").fetchall()


def test_a_batch_asks_the_locks_session_when_the_server_spoke_or_a_second_passed(
    one_run, pg_url: str, pg_admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before each batch the lock's connection is looked at: quiet, and answered
    within ASK_EVERY, it stands for the session's answer; anything the server says
    on it (here a notification, then a terminated session's end) or an older answer
    makes the batch ask the session itself, and a session that is gone stops the
    run with every row of the batches before it in the history."""
    from onenet_apply.store import lock
    from onenet_apply.store.errors import LockLostError

    _, locks, ledger = one_run
    asked: list[str | None] = []
    why_lost = locks.why_lost

    def counted() -> str | None:
        asked.append(why_lost())
        return asked[-1]

    locks.why_lost = counted
    ledger.before_batch()  # the lock was just taken: its session answered then
    ledger.record(outcomes("a"))
    ledger.before_batch()
    assert asked == []
    monkeypatch.setattr(lock, "ASK_EVERY", 0.0)
    ledger.before_batch()  # the last answer is too old
    assert asked == [None]
    monkeypatch.undo()
    locks.conn.execute("LISTEN onenet_test")
    ledger.before_batch()  # quiet again, and just answered
    pg_admin.execute("NOTIFY onenet_test")
    time.sleep(0.2)
    ledger.before_batch()  # the server said something: ask
    assert asked == [None, None]
    ledger.record(outcomes("b", "c"))
    pg_admin.execute("SELECT pg_terminate_backend(%s, 5000)", [locks.session_pid])
    with pytest.raises(LockLostError, match="stopped before the next batch") as lost:
        ledger.before_batch()
    assert len(asked) == 3 and "are not in the history" not in str(lost.value)
    ledger.end("failed", {}, str(lost.value))  # on the rows' connection: the lock's is gone
    assert [a for _, a in recorded(pg_url)] == [
        "user/a/create", "user/b/create", "user/c/create"
    ]  # fmt: skip


def test_a_batchs_rows_go_in_while_the_next_batch_runs(one_run, pg_url: str) -> None:
    """The server inserting a batch's rows does not hold up the next batch: with the
    table locked, the rows of one batch wait on the server while the next batch's
    lock check passes; recording the batch after that waits for them, and every
    row is in, in order, once the table is free."""
    import threading

    _, _, ledger = one_run
    blocker = psycopg.connect(pg_url)
    blocker.execute("LOCK TABLE onenet_run_actions IN EXCLUSIVE MODE")

    def first_batch_done_and_next_checked() -> None:
        ledger.record(outcomes("a"))
        ledger.before_batch()

    first = threading.Thread(target=first_batch_done_and_next_checked)
    first.start()
    first.join(2)
    assert not first.is_alive()  # did not wait for the server's insert
    second = threading.Thread(target=ledger.record, args=(outcomes("b"),))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # confirming the first batch's rows waits for the table
    blocker.rollback()
    blocker.close()
    second.join(10)
    assert not second.is_alive()
    ledger.end("ok", {"applied": 2})
    assert recorded(pg_url) == [(1, "user/a/create"), (2, "user/b/create")]


def test_rows_the_server_refuses_stop_the_run_at_the_next_batch(
    one_run, pg_url: str, pg_admin
) -> None:
    """A batch's rows the server will not take (here a constraint) stop the run
    before the batch after next, naming how many actions the history misses; the
    run's end says it failed."""
    from onenet_apply.store.errors import StoreError

    _, _, ledger = one_run
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE onenet_run_actions ADD CONSTRAINT no_b CHECK (action_id <> 'user/b/create')"
        )
    ledger.before_batch()
    ledger.record(outcomes("a"))
    ledger.before_batch()
    ledger.record(outcomes("b", "c"))  # refused: the whole statement
    ledger.before_batch()  # its answer is not read yet
    ledger.record(outcomes("d"))  # reads it: refused; this batch is not sent
    with pytest.raises(StoreError, match=r"no_b.*last 3 actions are not in the history"):
        ledger.before_batch()
    with pytest.raises(StoreError, match="last 3 actions"):
        ledger.end("ok", {"applied": 4})
    assert recorded(pg_url) == [(1, "user/a/create")]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT outcome FROM onenet_runs").fetchone() == ("failed",)


def test_rows_whose_connection_is_lost_are_sent_again_once(one_run, pg_url: str, pg_admin) -> None:
    """The rows' connection ended with a batch in flight: its rows go again on a new
    connection (rows already in are kept as they are, so none is twice)."""
    _, _, ledger = one_run
    ledger.record(outcomes("a"))
    time.sleep(0.2)  # its rows are in; the answer waits in this side's socket
    ledger.before_batch()
    rows_pid = ledger.rows.conn.info.backend_pid
    pg_admin.execute("SELECT pg_terminate_backend(%s, 5000)", [rows_pid])
    ledger.record(outcomes("b"))  # the answer for a is read; b's send finds the end
    ledger.before_batch()
    ledger.record(outcomes("c"))
    assert ledger.rows.conn.info.backend_pid != rows_pid
    ledger.end("ok", {"applied": 3})
    assert recorded(pg_url) == [(1, "user/a/create"), (2, "user/b/create"), (3, "user/c/create")]


def test_rows_in_whose_answer_was_lost_are_not_written_twice(
    one_run, pg_url: str, pg_admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server wrote a batch's rows, then the connection ended before this side
    read the answer: the rows go again on a new connection, and the ones already
    in are kept as they are, neither twice nor refused as duplicates."""
    from onenet_apply.store import action_rows

    _, _, ledger = one_run
    read_answer = action_rows._read_answer
    lost: list[int] = []

    def answer_lost_after_the_commit(conn: psycopg.Connection) -> None:
        read_answer(conn)  # the rows are in
        if lost:
            return
        lost.append(conn.info.backend_pid)
        pg_admin.execute("SELECT pg_terminate_backend(%s, 5000)", [lost[0]])
        with pytest.raises(psycopg.OperationalError):
            while True:  # until this side sees the connection end
                conn.pgconn.consume_input()
                time.sleep(0.01)
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(action_rows, "_read_answer", answer_lost_after_the_commit)
    ledger.record(outcomes("a", "b"))
    ledger.before_batch()
    ledger.record(outcomes("c"))  # confirming a and b: the answer is lost, so again
    assert lost and ledger.rows.conn.info.backend_pid != lost[0]
    ledger.end("ok", {"applied": 3})
    assert recorded(pg_url) == [(1, "user/a/create"), (2, "user/b/create"), (3, "user/c/create")]
