"""The shared state store as a whole, through the real CLI in separate processes.

Each test runs `python -m onenet_apply` in processes of its own (own working
directory, `ONENET_STATE` naming a schema of the test's own) against one sandbox
file: four applies at once take turns, a SIGKILLed holder lets go of the lock at
once, a holder whose lock session is terminated stops before its next batch, a
restarted server serves the next apply, a stopped one stops it before anything
changes, and the history of the README walkthrough names every action and holds
no secret.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from benchmarks.sitegen import generate
from onenet_apply.apply.credentials import read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.planning.planner import plan
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE, Result
from tests.pg_kit import PgAdmin, PrivateServer

BATCH = SandboxBackend.batch_size  # the sandbox's ready actions per batch
SITE = "big"
USERS = 3 * BATCH  # four batches of users and groups: an apply long enough to be caught mid-way
WAITING = re.compile(r"^Site (\S+) is locked by pid (\d+) on (\S+) \((.*)\) since .*waiting up to")
WAITING_SAID = f"Site {SITE} is locked by pid "  # the store's words to one who waits
ACTIVATION_SAID = "to be activated"  # the holder's, once all it could do is done
LOST = "lost the lock of site"
# the site's apply session, as pg_stat_activity names it
LOCK_SESSION = "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s"


def store_env(url: str, **more: str) -> dict[str, str]:
    """This environment with the store at `url` and nothing that would steer the
    backend or the store elsewhere."""
    dropped = ("ONENET_BACKEND", "ONENET_SANDBOX_FAULTS", "ONENET_STATE", "PGPASSWORD")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, "ONENET_STATE": url, **more}


class Onenet:
    """`onenet ARGS` as a process in `cwd`, its output in files there (a plan of
    hundreds of actions would fill a pipe nobody reads while it waits)."""

    def __init__(self, cwd: Path, env: dict[str, str], *args: str) -> None:
        cwd.mkdir(parents=True, exist_ok=True)
        self.cwd = cwd
        self.out_path = cwd / "stdout.txt"
        self.err_path = cwd / "stderr.txt"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "onenet_apply", *args],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        _started.append(self.proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def err(self) -> str:
        return self.err_path.read_text()

    def wait_for(self, text: str, timeout: float = 30) -> None:
        """Until stderr holds `text` (the process must still run)."""
        deadline = time.monotonic() + timeout
        while text not in self.err():
            assert self.proc.poll() is None, f"ended ({self.proc.returncode}): {self.err()}"
            assert time.monotonic() < deadline, f"no {text!r} in {timeout}s: {self.err()}"
            time.sleep(0.01)

    def finish(self, timeout: float = 60) -> Result:
        code = self.proc.wait(timeout=timeout)
        return Result(code, self.out_path.read_text(), self.err())


_started: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _no_process_left() -> Iterator[None]:
    """A test that fails midway leaves none of its processes running."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def onenet(cwd: Path, env: dict[str, str], *args: str) -> Result:
    return Onenet(cwd, env, *args).finish()


def write_site(directory: Path, users: int = USERS) -> Path:
    path = directory / "site.yaml"
    path.write_text("".join(generate(users, users // 10, SITE)))
    return path


def store_rows(url: str, query: str, params: Sequence[object] = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def applies(url: str) -> list[tuple[int, datetime, datetime | None, str, dict[str, int]]]:
    """The apply runs in the store: pid, started, finished, outcome, summary."""
    return store_rows(  # type: ignore[return-value]
        url,
        "SELECT pid, started_at, finished_at, outcome, summary FROM onenet_runs "
        "WHERE kind = 'apply' ORDER BY started_at",
    )


def journal_actions(database: Path) -> int:
    """The actions the sandbox carried out for the site (carrier answers aside)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM journal WHERE site = ? AND action_id NOT LIKE '%/carrier'",
            (SITE,),
        ).fetchone()
    return int(count)


def converges(directory: Path, env: dict[str, str], site: Path, backend: str, site_id: str) -> None:
    """The carrier activates everything, an apply does what waited for it, and then
    the site file has nothing left to do."""
    activate = onenet(directory / "activate", env, "sandbox", "activate", "--site", site_id,
                      "--all", "--backend", backend)  # fmt: skip
    assert activate.code == 0, activate.err
    again = onenet(directory / "again", env, "apply", str(site), "--yes", "--backend", backend)
    assert again.code == 0, again.err
    check = onenet(directory / "check", env, "plan", str(site), "--detailed-exitcode",
                   "--backend", backend)  # fmt: skip
    assert check.code == 0, check.out + check.err


def phone_users(database: Path, site_id: str) -> set[str]:
    backend = SandboxBackend(database)
    try:
        users = backend.read_state(site_id).users
        return {u for u, c in users.items() if c.item.desk_phone != "none"}
    finally:
        backend.close()


def credentials(directories: Sequence[Path]) -> list[dict[str, str]]:
    return [
        row
        for directory in directories
        for csv_file in directory.glob("onenet-credentials-*.csv")
        for row in read_rows(csv_file)
    ]


# -- four applies at once ------------------------------------------------------------
def test_four_applies_at_once_take_turns_naming_the_holder_and_write_each_login_once(
    pg_url: str, tmp_path: Path
) -> None:
    site = write_site(tmp_path)
    database = tmp_path / "sandbox.db"
    backend = f"sandbox:{database}"
    env = store_env(pg_url)
    places = [tmp_path / f"admin-{n}" for n in range(4)]
    # each apply holds the lock until the carrier activates what it created: the
    # first to take it keeps it while the other three start and queue behind it
    running = [Onenet(place, env, "apply", str(site), "--yes", "--wait-activation", "60",
                      "--backend", backend) for place in places]  # fmt: skip
    assert all(r.proc.poll() is None for r in running), "all four start before any ends"
    deadline = time.monotonic() + 30
    waiters: list[tuple[int]] = []  # as the store shows them: waiting for the site's lock
    # the carrier activates once the holder has created everything and waits for it,
    # and the three others queue behind it (activating earlier would miss a batch)
    while (
        sum(WAITING_SAID in r.err() for r in running) < 3
        or len(waiters) < 3
        or not any(ACTIVATION_SAID in r.err() for r in running)
    ):
        assert all(r.proc.poll() is None for r in running), [r.err() for r in running]
        assert time.monotonic() < deadline, ([r.err() for r in running], waiters)
        time.sleep(0.02)
        waiters = store_rows(pg_url, _WAITERS, [f"onenet apply {SITE} pid %"])
    activate = onenet(tmp_path / "carrier", env, "sandbox", "activate", "--site", SITE,
                      "--all", "--backend", backend)  # fmt: skip
    assert activate.code == 0, activate.err
    results = [r.finish() for r in running]
    for result in results:
        assert result.code == 0, result.err
        assert "Traceback" not in result.err

    runs = applies(pg_url)
    pids = [r.pid for r in running]
    assert sorted(run[0] for run in runs) == sorted(pids)
    for earlier, later in itertools.pairwise(runs):  # one at a time
        assert earlier[2] is not None and earlier[2] <= later[1], (earlier, later)
    # the first carried the plan out; the others, planning under the lock, found it done
    assert [run[4]["applied"] for run in runs][1:] == [0, 0, 0]
    assert runs[0][4]["applied"] > USERS
    first = runs[0][0]
    for result, pid in zip(results, pids, strict=True):
        said = [m for line in result.err.splitlines() if (m := WAITING.match(line))]
        if pid == first:
            assert said == [], result.err
            continue
        assert len(said) == 1, result.err  # told once, naming the holder
        site_id, holder, host, what = said[0].groups()
        assert (site_id, int(holder), host) == (SITE, first, socket.gethostname())
        assert what.startswith("onenet apply, ")  # the store's holder row: command, OS user

    converges(tmp_path, env, site, backend, SITE)
    sandbox = SandboxBackend(database)
    try:
        assert sandbox.check_consistency(SITE) == []
        rows = [row for row in credentials([*places, tmp_path / "again"]) if row["password"]]
        phones = phone_users(database, SITE)
        issued = Counter(row["user_id"] for row in rows)
        assert set(issued) == phones and set(issued.values()) == {1}  # each login once
        for row in rows:
            assert sandbox.verify_login(SITE, row["user_id"], row["password"]), row["user_id"]
    finally:
        sandbox.close()


# applies waiting in the store for an advisory lock (their application_name)
_WAITERS = """
SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name LIKE %s
"""


# -- SIGKILL of the holder -----------------------------------------------------------
def test_a_killed_holder_lets_the_next_apply_take_the_lock_within_a_second(
    pg_url: str, tmp_path: Path
) -> None:
    site = write_site(tmp_path)
    database = tmp_path / "sandbox.db"
    backend = f"sandbox:{database}"
    env = store_env(pg_url)
    # the holder runs what is ready, then, still holding the lock, waits for activations
    holder = Onenet(tmp_path / "holder", env, "apply", str(site), "--yes",
                    "--wait-activation", "60", "--backend", backend)  # fmt: skip
    wait_for_users(holder, database, USERS)
    # the next apply waits (at most 1 s) for the holder, named by its pid
    follower = Onenet(tmp_path / "follower", env, "apply", str(site), "--yes",
                      "--lock-timeout", "1", "--backend", backend)  # fmt: skip
    follower.wait_for(f"Site {SITE} is locked by pid {holder.pid} on ")
    killed_at = time.time()
    holder.proc.kill()
    holder.proc.wait()
    result = follower.finish()
    assert result.code == 3, result.err  # it got the lock in time and applied the rest
    runs = applies(pg_url)
    assert [run[0] for run in runs] == [holder.pid, follower.pid]
    latency = runs[1][1].timestamp() - killed_at  # the server's clock is this machine's
    print(f"SIGKILL of the holder to the next apply's run starting: {latency * 1000:.0f} ms")
    assert latency < 1.0
    shown = json.loads(
        onenet(tmp_path / "history", env, "history", "--site", SITE, "--format", "json").out
    )
    assert [run["outcome"] for run in shown["runs"]] == ["interrupted", "pending"]
    converges(tmp_path, env, site, backend, SITE)


def wait_for_users(running: Onenet, database: Path, count: int = 1) -> None:
    """Until the sandbox holds `count` of the site's users (committed by `running`)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert running.proc.poll() is None, f"ended early: {running.err()}"
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
                (found,) = db.execute(
                    "SELECT COUNT(*) FROM users WHERE site = ?", (SITE,)
                ).fetchone()
            if found >= count:
                return
        except sqlite3.Error:  # not created yet
            pass
        time.sleep(0.005)
    raise AssertionError(f"no {count} users in 60s: {running.err()}")


# -- pg_terminate_backend on the holder's lock session -------------------------------
def test_a_terminated_lock_session_stops_the_apply_before_its_next_batch(
    pg_url: str, pg_admin: PgAdmin, tmp_path: Path
) -> None:
    site = write_site(tmp_path)
    database = tmp_path / "sandbox.db"
    backend = f"sandbox:{database}"
    env = store_env(pg_url)
    first_pass = ready_at_first(site)
    # the apply runs what is ready, then waits for activations to run the rest
    holder = Onenet(tmp_path / "holder", env, "apply", str(site), "--yes",
                    "--wait-activation", "60", "--backend", backend)  # fmt: skip
    deadline = time.monotonic() + 60
    while recorded(pg_url) < first_pass:
        assert holder.proc.poll() is None and time.monotonic() < deadline, holder.err()
        time.sleep(0.01)
    assert journal_actions(database) == first_pass
    [session] = pg_admin.rows(LOCK_SESSION, [f"onenet apply {SITE} pid {holder.pid}@%"])
    assert pg_admin.value("SELECT pg_terminate_backend(%s, 5000)", [session[0]])
    # the carrier activates: the rest becomes ready, but the apply no longer holds the lock
    activate = onenet(tmp_path / "carrier", env, "sandbox", "activate", "--site", SITE,
                      "--all", "--backend", backend)  # fmt: skip
    assert activate.code == 0, activate.err
    result = holder.finish()
    assert result.code == 1, result.err
    assert LOST in result.err and "stopped before the next batch" in result.err
    assert "Traceback" not in result.err
    assert journal_actions(database) == first_pass  # nothing ran after the termination
    assert recorded(pg_url) == first_pass
    left = onenet(tmp_path / "left", env, "plan", str(site), "--detailed-exitcode",
                  "--backend", backend)  # fmt: skip
    assert left.code == 2  # what waited for the activations is still to do
    # the next apply takes the lock and converges
    after = onenet(tmp_path / "next", env, "apply", str(site), "--yes", "--backend", backend)
    assert after.code == 0, after.err
    converges(tmp_path, env, site, backend, SITE)
    sandbox = SandboxBackend(database)
    try:
        assert sandbox.check_consistency(SITE) == []
    finally:
        sandbox.close()


def test_a_lock_session_terminated_during_a_batch_stops_the_apply_naming_the_lost_lock(
    pg_url: str, pg_admin: PgAdmin, tmp_path: Path
) -> None:
    site = write_site(tmp_path, 2 * USERS)  # many batches: the termination lands mid-way
    database = tmp_path / "sandbox.db"
    backend = f"sandbox:{database}"
    env = store_env(pg_url)
    holder = Onenet(tmp_path / "holder", env, "apply", str(site), "--yes", "--backend", backend)
    wait_for_users(holder, database)  # its first batch committed: more are coming
    [session] = pg_admin.rows(LOCK_SESSION, [f"onenet apply {SITE} pid {holder.pid}@%"])
    assert pg_admin.value("SELECT pg_terminate_backend(%s, 5000)", [session[0]])
    at_termination = journal_actions(database)
    result = holder.finish()
    assert result.code == 1, result.err
    assert f"{LOST} {SITE}" in result.err and "stopped before the next batch" in result.err
    assert "Traceback" not in result.err
    ran = journal_actions(database)
    assert ran - at_termination <= BATCH  # at most the batch in flight finished
    assert ran < ready_at_first(site)  # it stopped mid-apply
    assert ran - BATCH <= recorded(pg_url) <= ran  # the history lacks that batch at most
    after = onenet(tmp_path / "next", env, "apply", str(site), "--yes", "--backend", backend)
    assert after.code == 3, after.err
    converges(tmp_path, env, site, backend, SITE)


def ready_at_first(site: Path) -> int:
    """The actions an apply of `site` runs on an empty sandbox before activations."""
    spec = validate_file(str(site)).spec
    assert spec is not None
    empty = SandboxBackend(":memory:")
    try:
        return len(plan(spec, empty.read_state(SITE), catalogue=default_catalogue()).ready)
    finally:
        empty.close()


def recorded(url: str) -> int:
    """The actions the store's history holds."""
    query = "SELECT COUNT(*) FROM onenet_run_actions"
    exists = store_rows(url, "SELECT to_regclass('onenet_run_actions') IS NOT NULL")[0][0]
    return int(store_rows(url, query)[0][0]) if exists else 0


# -- a restarted and a stopped server ------------------------------------------------
def test_a_restarted_server_serves_the_next_apply_and_a_stopped_one_stops_it_first(
    private_pg: PrivateServer, tmp_path: Path
) -> None:
    database = tmp_path / "sandbox.db"
    backend = f"sandbox:{database}"
    env = store_env(private_pg.url)
    first = onenet(tmp_path / "first", env, "apply", str(EXAMPLE), "--yes", "--backend", backend)
    assert first.code == 3, first.err
    private_pg.restart()  # while nobody applies
    converges(tmp_path, env, EXAMPLE, backend, "berlin-hq")
    assert [run[3] for run in applies(private_pg.url)] == ["pending", "ok"]

    munich = tmp_path / "munich.yaml"
    munich.write_text(EXAMPLE.read_text().replace("id: berlin-hq", "id: munich"))
    private_pg.stop()
    before = database.read_bytes()
    team = store_env(private_pg.team_url, PGPASSWORD=private_pg.team_password)
    down = onenet(tmp_path / "down", team, "apply", str(munich), "--yes", "--backend", backend)
    assert down.code == 1
    lines = down.err.strip().splitlines()
    assert len(lines) == 1, down.err  # one line, no traceback
    assert f"cannot reach the state store {private_pg.team_url}: " in lines[0], lines[0]
    assert private_pg.team_password not in down.out + down.err
    assert database.read_bytes() == before  # nothing applied
    sandbox = SandboxBackend(database)
    try:
        assert not sandbox.read_state("munich").exists
    finally:
        sandbox.close()
    assert not list((tmp_path / "down").glob("onenet-credentials-*.csv"))


# -- the history of the README walkthrough -------------------------------------------
def test_history_after_the_walkthrough_lists_each_apply_and_holds_no_secret(
    pg_team_url: str, pg_team_password: str, tmp_path: Path
) -> None:
    env = store_env(pg_team_url, PGPASSWORD=pg_team_password)
    work = tmp_path / "work"
    (work / "examples").mkdir(parents=True)
    site = work / "examples" / "site.yaml"
    site.write_text(EXAMPLE.read_text())

    def run(*args: str) -> Result:
        result = Onenet(work, env, *args).finish()
        assert pg_team_password not in result.out + result.err
        return result

    assert run("apply", "examples/site.yaml", "--yes").code == 3
    assert run("sandbox", "activate", "--site", "berlin-hq", "--all").code == 0
    assert run("apply", "examples/site.yaml", "--yes").code == 0
    assert run("plan", "examples/site.yaml", "--detailed-exitcode").code == 0

    shown = json.loads(run("history", "--site", "berlin-hq", "--format", "json").out)
    runs = shown["runs"]
    assert [(r["kind"], r["outcome"]) for r in runs] == [("apply", "pending"), ("apply", "ok")]
    assert [len(r["actions"]) for r in runs] == [19, 4]
    assert [r["summary"]["applied"] for r in runs] == [19, 4]
    assert {a["outcome"] for r in runs for a in r["actions"]} == {"ok"}
    assert all(r["source_file"].endswith("site.yaml") for r in runs)
    text = run("history", "--site", "berlin-hq").out
    for r in runs:
        assert f"apply #{r['id']} of site berlin-hq: {r['outcome']}" in text
        for action in r["actions"]:
            assert f"ok  {action['action_id']}  {action['message']}" in text

    rows = credentials([work])
    secrets = {row["password"] for row in rows} | {pg_team_password}
    assert len(rows) == 11
    dump = dump_store(pg_team_url, pg_team_password)
    assert all(a["action_id"] in dump for r in runs for a in r["actions"])  # it holds them
    leaked = [s for s in secrets if s in dump]
    assert leaked == [], "a secret is in the store's tables"
    logins = [row["login_username"] for row in rows]
    assert [name for name in logins if name in dump] == []


def dump_store(url: str, password: str) -> str:
    """Every row of every onenet_* table of the store's schema, as text."""
    with psycopg.connect(url, password=password, autocommit=True) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_name LIKE 'onenet%' "
                "ORDER BY table_name"
            )
        ]
        assert {"onenet_runs", "onenet_run_actions", "onenet_site_locks"} <= set(tables)
        return "\n".join(
            str(row[0])
            for table in tables
            for row in conn.execute(
                psycopg.sql.SQL("SELECT t::text FROM {} t").format(psycopg.sql.Identifier(table))
            )
        )
