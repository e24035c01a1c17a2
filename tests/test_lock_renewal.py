"""The lock's renewal thread, in one process: it renews the lease while the holder
works, and stops renewing once the lock was broken by hand; and how a holder on this
host is judged alive."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.lock import (
    Lease,
    LockLostError,
    LockRecord,
    _Renewer,
    process_start,
)
from tests.sandbox_kit import SITE, create_user


def renewer_running() -> bool:
    return any(t.name == f"onenet-lock-{SITE}" and t.is_alive() for t in threading.enumerate())


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_lease_is_renewed_while_held_and_renewal_stops_when_broken(tmp_path: Path) -> None:
    holder = SandboxBackend(tmp_path / "sandbox.db")
    holder.configure(SITE)
    other = SandboxBackend(tmp_path / "sandbox.db")
    try:
        with holder.lock(SITE, timeout=5, command="test", lease=0.3):
            first = other.lock_record(SITE).renewed_at
            assert wait_until(lambda: other.lock_record(SITE).renewed_at > first)
            assert renewer_running()
            broken = other.break_lock(SITE)
            assert broken is not None and broken.command == "test"
            assert wait_until(lambda: not renewer_running())  # it saw its lock gone
            assert other.lock_record(SITE) is None  # and never wrote it back
            with pytest.raises(LockLostError):
                create_user(holder, "anna", 1)
        assert other.read_state(SITE).users == {}
    finally:
        holder.close()
        other.close()


def record(pid: int, proc_start: str = "") -> LockRecord:
    return LockRecord("t", pid, socket.gethostname(), proc_start, "", "onenet apply", 0.0, 60.0)


def test_a_holder_this_user_may_not_signal_counts_as_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another user's process: kill(pid, 0) is refused, but the process is there, so
    its lock is not taken over."""

    def refused(pid: int, signal: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", refused)
    assert record(4242).alive()


def test_a_process_without_a_start_time_is_judged_by_its_pid_alone() -> None:
    assert process_start(-1) == ""  # no /proc entry to read
    assert record(os.getpid(), proc_start=process_start(os.getpid())).alive()
    assert not record(os.getpid(), proc_start="0").alive()  # the pid was reused


def test_renewal_without_a_database_to_open_ends_quietly(tmp_path: Path) -> None:
    """The holder's own work reports a file that cannot be opened; the thread just ends."""
    renewer = _Renewer(tmp_path / "gone" / "sandbox.db", Lease(SITE, "t"), lease=0.3)
    renewer.start()
    renewer.join(timeout=5)
    assert not renewer.is_alive()
