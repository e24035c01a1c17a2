"""The per-site apply lock, kept in the sandbox database, with a lease.

A holder records its pid, host, process start time and command, and renews a
lease from a background thread on a connection of its own (every third of the
lease), so an apply that waits at a prompt or in one long batch keeps its lock.
A holder that died is detected and its lock taken over, so a killed apply never
wedges a site: on this host at once (no such pid, or the pid now belongs to a
younger process); on another host, such as a CI container, once its lease has
lapsed. `break_lock` removes a lock by hand (`onenet sandbox unlock`); a holder
that still runs finds its token gone and stops before its next change.

A row that cannot be read (a text where a time belongs, a lease that is not a
positive number of seconds up to MAX_LEASE_SECONDS) is a DamagedLockError naming
the way out, and `break_lock` still removes it. A renewal time more than one lease
ahead of this host's clock (a holder on a host whose clock runs ahead) is taken as
made now, and written back as such, so such a lock lapses one lease after a locker
first sees it instead of never.

Waiting for the lock never waits longer than the caller's timeout, even while
another process holds a long write transaction on the file.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

from onenet_apply.backends.base import BackendError, LockHolder, LockTimeout
from onenet_apply.backends.sandbox.store import BUSY_SECONDS, now_iso, transaction

POLL_SECONDS = 0.05
LEASE_SECONDS = 60.0
MAX_LEASE_SECONDS = 3600.0
_COLUMNS = "token, pid, host, proc_start, started_at, command, renewed_at, lease"


@dataclass(frozen=True, slots=True)
class LockRecord:
    """A lock row as stored, whether or not its holder still lives."""

    token: str
    pid: int
    host: str
    proc_start: str
    started_at: str
    command: str
    renewed_at: float  # time.time() of the holder's last renewal
    lease: float

    @property
    def holder(self) -> LockHolder:
        return LockHolder(self.pid, self.host, self.started_at, self.command)

    @property
    def here(self) -> bool:
        import socket  # as in site_lock

        return self.host == socket.gethostname()

    def alive(self) -> bool:
        """Whether the holder still runs, as far as this host can tell."""
        if not self.here:
            return time.time() - self.renewed_at <= self.lease
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not self.proc_start or process_start(self.pid) in ("", self.proc_start)

    def ahead(self) -> bool:
        """Whether the last renewal lies more than a lease ahead of this host's clock."""
        return self.renewed_at - time.time() > self.lease

    def renewed(self) -> str:
        """When the holder last renewed its lease, in words."""
        ago = time.time() - self.renewed_at
        if ago < -1:
            return (
                f"last renewed its {self.lease:.0f}s lease {-ago:.0f}s ahead of this host's "
                "clock (the clocks disagree)"
            )
        return f"last renewed its {self.lease:.0f}s lease {max(0.0, ago):.0f}s ago"


@dataclass(frozen=True, slots=True)
class Lease:
    """The lock this process holds, known by its token."""

    site: str
    token: str


class DamagedLockError(BackendError):
    """A lock row that cannot be read: no one can tell whether its holder lives."""

    def __init__(self, site: str, path: Path | str, problem: str) -> None:
        self.site = site
        self.problem = problem
        super().__init__(
            f"the lock record of site {site} in {path} is damaged: {problem}; "
            f"`onenet sandbox unlock --site {site}` removes it"
        )


class LockDamage(ValueError):
    """What is wrong with a lock row (DamagedLockError once the file is known)."""

    def error(self, site: str, path: Path | str) -> DamagedLockError:
        return DamagedLockError(site, path, str(self))


def process_start(pid: int) -> str:
    """The kernel's start time of `pid` (field 22 of /proc/PID/stat), or '' if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


@contextmanager
def site_lock(
    db: sqlite3.Connection,
    path: Path,
    site: str,
    timeout: float,
    command: str = "",
    lease: float = LEASE_SECONDS,
) -> Iterator[Lease]:
    """Hold `site`'s lock; wait up to `timeout` seconds, then LockTimeout naming the holder."""
    import secrets
    import socket  # here, not at the top: a command that takes no lock (plan) never loads them

    token = secrets.token_hex(8)
    pid = os.getpid()
    me = (site, token, pid, socket.gethostname(), process_start(pid), now_iso(), command)
    start = time.monotonic()
    deadline = start + timeout
    while True:
        try:
            holder = _try_acquire(db, me, lease, max(0.0, deadline - time.monotonic()))
        except sqlite3.OperationalError as e:
            if not _busy(e):
                raise
            record = _peek(db, site)  # someone else is writing: wait on
            holder = record if record is not None and record.alive() else _BUSY
        except LockDamage as e:
            raise e.error(site, path) from None
        if holder is None:
            break
        if time.monotonic() >= deadline:
            raise _timeout(site, path, holder, time.monotonic() - start)
        time.sleep(POLL_SECONDS)
    held = Lease(site, token)
    renewer = _Renewer(path, held, lease)
    renewer.start()
    try:
        yield held
    finally:
        renewer.stop()
        # If the file cannot be written now, the lock lapses with this process.
        with suppress(sqlite3.Error), transaction(db):
            db.execute("DELETE FROM locks WHERE site = ? AND token = ?", (site, token))


def holds(db: sqlite3.Connection, lease: Lease) -> bool:
    """Whether `lease` still owns its site's lock (call inside the write transaction)."""
    row = db.execute("SELECT token FROM locks WHERE site = ?", (lease.site,)).fetchone()
    return row is not None and row[0] == lease.token


def current_holder(db: sqlite3.Connection, site: str) -> LockHolder | None:
    record = lock_record(db, site)
    return record.holder if record is not None and record.alive() else None


def lock_record(db: sqlite3.Connection, site: str) -> LockRecord | None:
    """The site's lock row, or None; LockDamage if it cannot be read."""
    row = db.execute(f"SELECT {_COLUMNS} FROM locks WHERE site = ?", (site,)).fetchone()
    return parse_record(tuple(row)) if row is not None else None


def parse_record(row: tuple) -> LockRecord:
    """A stored lock row as a LockRecord, every column checked: a damaged row must
    read as damaged, never as a live holder nor as a crash in a comparison."""
    names = [name.strip() for name in _COLUMNS.split(",")]
    values = dict(zip(names, row, strict=True))
    for name in ("token", "host", "proc_start", "started_at", "command"):
        if not isinstance(values[name], str):
            raise LockDamage(f"{name} is {values[name]!r}, not a text")
    pid = values["pid"]
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        raise LockDamage(f"pid is {pid!r}, not a process id")
    for name in ("renewed_at", "lease"):
        value = values[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise LockDamage(f"{name} is {value!r}, not a number of seconds")
    if not 0 < values["lease"] <= MAX_LEASE_SECONDS:
        raise LockDamage(
            f"lease is {values['lease']:g}s, not between 0 and {MAX_LEASE_SECONDS:.0f}s"
        )
    return LockRecord(**{**values, "renewed_at": float(values["renewed_at"])})


def break_lock(db: sqlite3.Connection, site: str) -> LockRecord | LockDamage | None:
    """Remove `site`'s lock, whoever holds it and however damaged its row; what was
    removed (or what was wrong with it), or None."""
    with transaction(db):
        row = db.execute(f"SELECT {_COLUMNS} FROM locks WHERE site = ?", (site,)).fetchone()
        if row is None:
            return None
        db.execute("DELETE FROM locks WHERE site = ?", (site,))
    try:
        return parse_record(tuple(row))
    except LockDamage as e:
        return e


# -- internals ------------------------------------------------------------------------

_BUSY = object()  # the file was busy and no lock row could be read


def _try_acquire(
    db: sqlite3.Connection, me: tuple, lease: float, wait: float
) -> LockRecord | object | None:
    """Take the lock (returns None) or report who holds it; wait at most `wait`
    seconds for another process's write transaction."""
    site = me[0]
    db.execute(f"PRAGMA busy_timeout = {int(min(wait, BUSY_SECONDS) * 1000)}")
    try:
        with transaction(db):
            record = lock_record(db, site)
            if record is not None and record.ahead():
                # a clock ahead of ours: count the lease from now, and keep it so
                record = replace(record, renewed_at=time.time())
                db.execute(
                    "UPDATE locks SET renewed_at = ? WHERE site = ? AND token = ?",
                    (record.renewed_at, site, record.token),
                )
            if record is not None and record.alive():
                return record
            db.execute(
                f"INSERT OR REPLACE INTO locks (site, {_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*me, time.time(), lease),
            )
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
    return None


def _peek(db: sqlite3.Connection, site: str) -> LockRecord | None:
    """The lock row as last committed, read without waiting for writers."""
    try:
        return lock_record(db, site)
    except (sqlite3.OperationalError, LockDamage):
        return None


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def _timeout(site: str, path: Path, holder: LockRecord | object, waited: float) -> LockTimeout:
    if not isinstance(holder, LockRecord):
        return LockTimeout(
            site,
            None,
            waited,
            hint=f"the sandbox {path} stayed busy, another process writing to it all the while",
        )
    hint = ""
    if not holder.here:
        hint = (
            f"it {holder.renewed()}; if that process is gone, the lock lapses with its lease, "
            f"or `onenet sandbox unlock --site {site}` breaks it now"
        )
    return LockTimeout(site, holder.holder, waited, hint=hint)


class _Renewer(threading.Thread):
    """Renews a held lease every third of its length, on a connection of its own,
    so renewal goes on while the holder's own connection is busy or waiting."""

    def __init__(self, path: Path, held: Lease, lease: float) -> None:
        super().__init__(name=f"onenet-lock-{held.site}", daemon=True)
        self.path = path
        self.held = held
        self.every = lease / 3
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=self.every)
        except sqlite3.Error:
            return  # the holder's own work will report a file that cannot be opened
        try:
            while not self.stopping.wait(self.every):
                try:
                    renewed = db.execute(
                        "UPDATE locks SET renewed_at = ? WHERE site = ? AND token = ?",
                        (time.time(), self.held.site, self.held.token),
                    ).rowcount
                except sqlite3.Error:
                    continue  # busy or failing: try again; a lease survives two misses
                if not renewed:  # broken by hand: the holder stops at its next change
                    return
        finally:
            db.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=1.0)


class LockLostError(BackendError):
    """Someone broke this process's lock (`onenet sandbox unlock`) while it ran."""

    def __init__(self, site: str) -> None:
        super().__init__(
            f"the lock on site {site} was broken by another process (onenet sandbox unlock); "
            "stopped before the next change: run onenet plan to see where the site stands"
        )
