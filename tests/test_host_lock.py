"""The host-local site lock: one holder at a time per site and backend, the waiting
side names the holder, a killed holder lets go, and other sites or backends are
not held up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from onenet_apply.backends.base import LockTimeout
from onenet_apply.backends.host_lock import HostLocks, lock_dir


@pytest.fixture(autouse=True)
def locks_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONENET_LOCK_DIR", str(tmp_path / "locks"))
    return tmp_path / "locks"


HOLD = """
import sys, time
from onenet_apply.backends.host_lock import HostLocks
with HostLocks(sys.argv[1]).lock(sys.argv[2], 5, "onenet apply site.yaml"):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(scope: str, site: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, scope, site], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    return process


def test_a_second_holder_waits_then_times_out_naming_the_first() -> None:
    process = _holder("ocip://pbx/acme", "hq")
    try:
        start = time.monotonic()
        with pytest.raises(LockTimeout) as timed_out, HostLocks("ocip://pbx/acme").lock("hq", 0.3):
            pass
        assert time.monotonic() - start >= 0.3
        message = str(timed_out.value)
        assert f"pid {process.pid}" in message and "(onenet apply site.yaml)" in message
        assert "this machine only" in message
    finally:
        process.kill()
        process.wait()


def test_a_killed_holder_lets_go_at_once() -> None:
    process = _holder("ocip://pbx/acme", "hq")
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with HostLocks("ocip://pbx/acme").lock("hq", 0):
        pass


def test_other_sites_and_backends_are_not_held_up() -> None:
    process = _holder("ocip://pbx/acme", "hq")
    try:
        with (
            HostLocks("ocip://pbx/acme").lock("branch", 0),
            HostLocks("ocip://other/acme").lock("hq", 0),
        ):
            pass
    finally:
        process.kill()
        process.wait()


def test_the_lock_is_released_and_its_holder_cleared_after_use(locks_in_tmp: Path) -> None:
    locks = HostLocks("ocip://pbx/acme")
    with locks.lock("hq", 0, "first"):
        assert b'"command": "first"' in locks.path("hq").read_bytes()
    assert locks.path("hq").read_bytes() == b""
    with locks.lock("hq", 0):
        pass
    assert locks.path("hq").parent == locks_in_tmp
    assert oct(locks_in_tmp.stat().st_mode & 0o777) == "0o700"


def test_the_default_place_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ONENET_LOCK_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert lock_dir() == tmp_path / "onenet" / "locks"
