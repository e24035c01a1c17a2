"""The lock's renewal thread, in one process: it renews the lease while the holder
works, and stops renewing once the lock was broken by hand."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.lock import LockLostError
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
