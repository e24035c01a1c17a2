"""The sandbox across processes: the site lock, crashes at random instants, faults."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from onenet_apply.backends.base import LockTimeout, TransientError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.faults import Faults
from onenet_apply.backends.sandbox.store import connect
from tests.conftest import ROOT
from tests.sandbox_kit import SITE, create_user


def start_worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.sandbox_worker", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], expected: str) -> None:
    line = proc.stdout.readline().strip()
    assert line == expected, proc.stderr.read()


# -- the site lock --------------------------------------------------------------------


def test_second_locker_waits_for_release_then_proceeds(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    SandboxBackend(db).configure(SITE)
    holder = start_worker("lock", str(db), "1.0")
    wait_for_line(holder, "locked")
    backend = SandboxBackend(db)
    start = time.monotonic()
    with backend.lock(SITE, timeout=20):
        waited = time.monotonic() - start
    assert waited > 0.5
    assert holder.wait(timeout=10) == 0


def test_lock_timeout_names_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    SandboxBackend(db).configure(SITE)
    holder = start_worker("lock", str(db), "30")
    try:
        wait_for_line(holder, "locked")
        backend = SandboxBackend(db)
        with pytest.raises(LockTimeout) as caught, backend.lock(SITE, timeout=0.3):
            pass
        message = str(caught.value)
        assert f"pid {holder.pid} on {socket.gethostname()} (sandbox_worker lock)" in message
        assert message.startswith(f"site {SITE} is locked by")
    finally:
        holder.kill()
        holder.wait()


def test_a_dead_holders_lock_is_recovered(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    SandboxBackend(db).configure(SITE)
    holder = start_worker("lock", str(db), "30")
    wait_for_line(holder, "locked")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    backend = SandboxBackend(db)
    assert backend.lock_holder(SITE) is None  # dead: not reported as holding
    start = time.monotonic()
    with backend.lock(SITE, timeout=5):
        assert time.monotonic() - start < 1
        assert backend.lock_holder(SITE).pid == os.getpid()
    assert backend.lock_holder(SITE) is None


def test_a_reused_pid_is_not_mistaken_for_the_holder(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    backend.db.execute(
        "INSERT INTO locks VALUES (?, 'x', ?, ?, 'not-my-start-time', '2026-01-01T00:00:00Z', '',"
        " ?, 60)",
        (SITE, os.getpid(), socket.gethostname(), time.time()),
    )
    with backend.lock(SITE, timeout=1):
        pass


# -- crashes -------------------------------------------------------------------------


def test_sigkill_at_random_instants_leaves_a_consistent_database(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    rng = random.Random(2026)
    runs = 30
    for seed in range(runs):
        worker = start_worker("churn", str(db), str(seed))
        wait_for_line(worker, "10")  # started and writing
        time.sleep(rng.uniform(0.0, 0.4))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        check = connect(db)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()
        backend = SandboxBackend(db)
        assert backend.check_consistency(SITE) == [], f"run {seed}"
        journal = backend.journal(SITE)
        created = sum(
            1
            for e in journal
            if e.outcome == "ok"
            and e.action_id.endswith("/create")
            and e.action_id.startswith("user/")
        )
        deleted = sum(1 for e in journal if e.outcome == "ok" and e.action_id.endswith("/delete"))
        # every journalled action took effect, and nothing took effect unjournalled
        assert len(backend.read_state(SITE).users) == created - deleted
        backend.close()


# -- fault injection --------------------------------------------------------------------


def test_nth_action_fails_before_changing_anything(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=Faults(nth=2))
    create_user(backend, "anna", 1)
    with pytest.raises(TransientError, match="nothing changed"):
        create_user(backend, "ben", 2)
    assert set(backend.read_state(SITE).users) == {"anna"}
    create_user(backend, "ben", 2)  # the retry succeeds
    assert [e.outcome for e in backend.journal(SITE)] == ["ok", "failed", "ok"]


def test_lost_reply_applies_the_action_but_reports_failure(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=Faults(nth=1, mode="lost-reply"))
    with pytest.raises(TransientError, match="reply lost"):
        create_user(backend, "anna", 1)
    assert set(backend.read_state(SITE).users) == {"anna"}


def test_random_faults_are_seeded(tmp_path: Path) -> None:
    def outcomes(name: str) -> list[bool]:
        backend = SandboxBackend(tmp_path / name, faults=Faults(rate=0.3, seed=7))
        result = []
        for n in range(40):
            try:
                create_user(backend, f"u{n}", n)
                result.append(True)
            except TransientError:
                result.append(False)
        return result

    first = outcomes("a.db")
    assert first == outcomes("b.db")
    assert 0 < first.count(False) < 40


def test_faults_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ONENET_SANDBOX_FAULTS", "nth=1")
    backend = SandboxBackend(tmp_path / "sandbox.db")
    with pytest.raises(TransientError):
        create_user(backend, "anna", 1)
    for bad in ("often", "nth=x", "mode=sometimes", "rate=0.1,rate=0.2", "colour=red"):
        with pytest.raises(ValueError, match="use nth=N"):
            Faults.parse(bad)
