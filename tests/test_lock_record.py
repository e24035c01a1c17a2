"""What a lock row says about its holder, and how a waiter polls, in one process."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from onenet_apply.backends.base import LockTimeout
from onenet_apply.backends.sandbox import SandboxBackend, lock
from onenet_apply.backends.sandbox.lock import LockRecord, process_start
from tests.sandbox_kit import SITE

NO_SUCH_PID = 2**22 + 1  # above Linux's largest pid_max


def record(**over: object) -> LockRecord:
    values: dict = dict(
        token="t",
        pid=os.getpid(),
        host=socket.gethostname(),
        proc_start=process_start(os.getpid()),
        started_at="2026-01-01T00:00:00Z",
        command="onenet apply",
        renewed_at=0.0,
        lease=60.0,
    )
    values.update(over)
    return LockRecord(**values)


def test_the_start_time_of_a_process_that_is_gone_is_unknown() -> None:
    assert process_start(NO_SUCH_PID) == ""
    assert process_start(os.getpid()).isdigit()


def test_a_holder_on_this_host_lives_while_its_pid_and_start_time_match() -> None:
    assert record().alive()
    assert record(proc_start="").alive()  # recorded without a start time: the pid decides
    assert not record(proc_start="1").alive()  # the pid now belongs to another process
    assert not record(pid=NO_SUCH_PID).alive()


def test_waiting_for_the_lock_polls_without_spinning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    backend.configure(SITE)
    mine = record()  # a live holder: this very process, under another token
    backend.db.execute(
        "INSERT INTO locks (site, token, pid, host, proc_start, started_at, command, "
        "renewed_at, lease) VALUES (?, 'other', ?, ?, ?, ?, ?, ?, ?)",
        (SITE, mine.pid, mine.host, mine.proc_start, mine.started_at, "x", 0.0, 60.0),
    )
    attempts = []
    real = lock._try_acquire
    monkeypatch.setattr(lock, "_try_acquire", lambda *a: attempts.append(1) or real(*a))
    with pytest.raises(LockTimeout), backend.lock(SITE, timeout=0.3):
        pass
    backend.close()
    assert 1 <= len(attempts) <= 0.3 / lock.POLL_SECONDS + 2


def test_renewal_goes_on_after_the_file_was_busy(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    backend = SandboxBackend(path)
    backend.configure(SITE)
    other = sqlite3.connect(path, isolation_level=None)
    with backend.lock(SITE, timeout=5, lease=1.5):  # renewed every 0.5s
        other.execute("BEGIN IMMEDIATE")  # the renewals at 0.5s and 1s find the file busy
        time.sleep(1.2)
        other.execute("ROLLBACK")
        free = time.time()
        time.sleep(1.0)
        renewed = backend.lock_record(SITE).renewed_at
    assert not [t for t in threading.enumerate() if t.name == f"onenet-lock-{SITE}"]
    other.close()
    backend.close()
    assert renewed > free


def test_stopping_the_renewer_waits_until_it_has_stopped(tmp_path: Path) -> None:
    """A released lock is never renewed afterwards by a renewer still on its way out."""
    backend = SandboxBackend(tmp_path / "sandbox.db")
    backend.configure(SITE)
    renewer = lock._Renewer(tmp_path / "sandbox.db", lock.Lease(SITE, "t"), 60.0)
    renewer.start()
    renewer.stop()
    assert not renewer.is_alive()
    backend.close()
