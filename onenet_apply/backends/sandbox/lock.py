"""The per-site apply lock, kept in the sandbox database.

A holder records its pid, host, process start time and command. A holder that
died (no such pid on this host, or the pid now belongs to a younger process) is
detected and its lock taken over, so a killed apply never wedges a site.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from onenet_apply.backends.base import LockHolder, LockTimeout
from onenet_apply.backends.sandbox.store import now_iso, transaction

POLL_SECONDS = 0.05


def process_start(pid: int) -> str:
    """The kernel's start time of `pid` (field 22 of /proc/PID/stat), or '' if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int, host: str, proc_start: str) -> bool:
    if host != socket.gethostname():
        return True  # cannot tell from here: honour the lock until it is released
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not proc_start or process_start(pid) in ("", proc_start)


@contextmanager
def site_lock(
    db: sqlite3.Connection, site: str, timeout: float, command: str = ""
) -> Iterator[None]:
    token = secrets.token_hex(8)
    pid = os.getpid()
    me = (site, token, pid, socket.gethostname(), process_start(pid), now_iso(), command)
    deadline = time.monotonic() + timeout
    start = time.monotonic()
    while True:
        holder = _try_acquire(db, me)
        if holder is None:
            break
        if time.monotonic() >= deadline:
            raise LockTimeout(site, holder, time.monotonic() - start)
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        with transaction(db):
            db.execute("DELETE FROM locks WHERE site = ? AND token = ?", (site, token))


def _try_acquire(db: sqlite3.Connection, me: tuple) -> LockHolder | None:
    """Take the lock (returns None) or report who holds it."""
    site = me[0]
    with transaction(db):
        row = db.execute(
            "SELECT pid, host, proc_start, started_at, command FROM locks WHERE site = ?", (site,)
        ).fetchone()
        if row is not None and _alive(row[0], row[1], row[2]):
            return LockHolder(row[0], row[1], row[3], row[4])
        db.execute(
            "INSERT OR REPLACE INTO locks (site, token, pid, host, proc_start, started_at, command)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            me,
        )
    return None


def current_holder(db: sqlite3.Connection, site: str) -> LockHolder | None:
    row = db.execute(
        "SELECT pid, host, proc_start, started_at, command FROM locks WHERE site = ?", (site,)
    ).fetchone()
    if row is None or not _alive(row[0], row[1], row[2]):
        return None
    return LockHolder(row[0], row[1], row[3], row[4])
