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
    assert one["spec_digest"].startswith("sha256:") and one["plan_digest"] == ""
    assert one["finished_at"] >= one["started_at"]
    text = onenet("history", "--site", SITE)
    assert text.code == 0
    assert f"apply #{one['id']} of site {SITE}: pending" in text.out
    assert "  19 applied, 4 deferred, 0 blocked, 0 gated, 0 failed\n" in text.out
    assert "    ok  user/anna/create  create user/anna (" in text.out
    assert "CI run nightly-17" in text.out and "from examples/site.yaml at commit " in text.out


def test_a_saved_plan_records_its_digest_and_a_refusal_its_reason(
    onenet, with_store: str, workdir: Path
) -> None:
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0
    saved = json.loads((workdir / "plan.json").read_text())
    assert onenet("apply", "plan.json", "--yes").code == 3
    (recorded,) = runs(onenet)
    assert recorded["plan_digest"] == saved["plan_digest"]
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
    from onenet_apply.apply.applier import BATCH_SIZE, apply_site
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
    if history_server == "gone":

        def unreachable() -> None:
            raise StoreError("cannot reach the state store")

        store.reopen = unreachable  # type: ignore[assignment, method-assign]
    ledger = store.run_log("apply", SMALL_SITE, locks)
    executed = backend.execute_batch

    def batch_then_lose_the_lock(site: str, actions, record):  # type: ignore[no-untyped-def]
        result = executed(site, actions, record)
        pg_admin.execute("SELECT pg_terminate_backend(%s)", [locks.session_pid])
        return result

    backend.execute_batch = batch_then_lose_the_lock  # type: ignore[method-assign]
    spec = site_file(tmp_path / "site.yaml", range(BATCH_SIZE + 20))
    with pytest.raises(LockLostError, match="stopped before the next batch") as lost:
        apply_site(backend, spec, PlanOptions(), nothing, locks=locks, ledger=ledger)
    store.close()
    assert len(backend.read_state(SMALL_SITE).users) == BATCH_SIZE
    backend.close()
    missing = f"The outcomes of the last batch ({BATCH_SIZE} actions) are not in the history"
    if history_server == "gone":
        assert missing in str(lost.value)
        return
    assert missing not in str(lost.value)
    with psycopg.connect(pg_url) as conn:
        outcome, message = conn.execute("SELECT outcome, message FROM onenet_runs").fetchone()
        (actions,) = conn.execute("SELECT count(*) FROM onenet_run_actions").fetchone()
    assert (outcome, actions) == ("failed", BATCH_SIZE)  # the batch that ran is recorded
    assert message.startswith(f"lost the lock of site {SMALL_SITE}")


def test_a_batch_record_is_the_next_batchs_lock_check(
    pg_url: str, pg_admin, tmp_path: Path
) -> None:
    """One round trip a batch: recording a batch on the lock's session proves the lock
    held, so the next batch asks no more; after a pause (a wait for activations) or
    once the lock's session is gone, the check asks the server again."""
    from onenet_apply.apply.ledger import ActionOutcome
    from onenet_apply.store import history
    from onenet_apply.store.actor import current_actor
    from onenet_apply.store.address import StateAddress
    from onenet_apply.store.errors import LockLostError
    from onenet_apply.store.session import open_store

    store = open_store(StateAddress(pg_url), current_actor("onenet apply"), SITE)
    locks = store.locks(lambda site: f"test#{site}")
    ledger = store.run_log("apply", SITE, locks)
    checks: list[str] = []
    ensure_held = locks.ensure_held

    def counted(site_id: str) -> None:
        checks.append(site_id)
        ensure_held(site_id)

    locks.ensure_held = counted  # type: ignore[method-assign]
    with locks.lock(SITE, 5, "onenet apply"):
        ledger.begin()
        ledger.before_batch()  # the first batch: nothing recorded yet, so it asks
        ledger.record([ActionOutcome("user/a/create", "ok", "create user/a")])
        ledger.before_batch()  # right after a record on the lock's session: no question
        assert checks == [SITE]
        ledger.record([ActionOutcome("user/b/create", "ok", "create user/b")])
        time.sleep(history._CHECK_FRESH_FOR * 2)  # a pause: the record no longer stands
        ledger.before_batch()
        assert checks == [SITE, SITE]
        ledger.record([ActionOutcome("user/c/create", "ok", "create user/c")])
        pg_admin.execute("SELECT pg_terminate_backend(%s, 5000)", [locks.session_pid])
        ledger.record([ActionOutcome("user/d/create", "ok", "create user/d")])  # on a new session
        with pytest.raises(LockLostError):
            ledger.before_batch()
    store.close()
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT seq, action_id FROM onenet_run_actions ORDER BY seq").fetchall()
    assert rows == [(1, "user/a/create"), (2, "user/b/create"), (3, "user/c/create"),
                    (4, "user/d/create")]  # fmt: skip
