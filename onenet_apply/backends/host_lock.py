"""A site lock on this machine, for a backend that keeps none (BroadWorks).

An advisory `flock` on one file per site and backend, under
`$ONENET_LOCK_DIR` (default `$XDG_STATE_HOME/onenet/locks`, i.e.
`~/.local/state/onenet/locks`). The kernel lets go when the holder's process
ends, however it ends, so a killed apply never leaves the site locked. The file
names the holder (pid, host, command, since) for whoever waits. It keeps two
applies on this machine apart, not two machines: teams give a shared store.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from onenet_apply.backends.base import BackendError, LockHolder, LockTimeout

POLL_SECONDS = 0.05
HINT = "the lock covers applies on this machine only"


def lock_dir() -> Path:
    configured = os.environ.get("ONENET_LOCK_DIR")
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "onenet" / "locks"


@dataclass(frozen=True, slots=True)
class HostLocks:
    """`SiteLocks` for the backend named `scope` (its URL without secrets)."""

    scope: str

    def path(self, site_id: str) -> Path:
        key = hashlib.sha256(f"{self.scope}\0{site_id}".encode()).hexdigest()[:32]
        return lock_dir() / f"{key}.lock"

    @contextmanager
    def lock(self, site_id: str, timeout: float, command: str = "") -> Iterator[None]:
        path = self.path(site_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise BackendError(f"cannot open the lock file {path}: {e.strerror}") from None
        try:
            _acquire(descriptor, site_id, timeout)
            _write_holder(descriptor, command)
            yield
        finally:
            with suppress(OSError):
                os.ftruncate(descriptor, 0)
            os.close(descriptor)  # closing lets go of the flock


def _acquire(descriptor: int, site_id: str, timeout: float) -> None:
    start = time.monotonic()
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            waited = time.monotonic() - start
            if waited >= timeout:
                raise LockTimeout(site_id, read_holder(descriptor), waited, HINT) from None
            time.sleep(min(POLL_SECONDS, max(0.0, timeout - waited)))


def _write_holder(descriptor: int, command: str) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
    }
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps(holder).encode(), 0)


def read_holder(descriptor: int) -> LockHolder | None:
    """Who holds the lock, as the holder wrote it (None while it is still writing)."""
    try:
        raw = json.loads(os.pread(descriptor, 4096, 0) or b"null")
        return LockHolder(
            int(raw["pid"]), str(raw["host"]), str(raw["started_at"]), str(raw["command"])
        )
    except (ValueError, TypeError, KeyError, OSError):
        return None
