"""The site lock in PostgreSQL: a session-level advisory lock on a connection of
its own.

The key is `advisory_key(schema, platform name of the site)`, so two sites, or one
site in two schemas, never share a lock. The holder writes a row naming itself (OS
user, host, pid, command, CI run) and its connection's `application_name` says the
same, so a waiting apply names who it waits for. PostgreSQL lets go of the lock
when the holder's connection closes, however its process ends: a killed apply
never wedges a site, and the next one gets the lock as soon as the server sees the
connection gone.

A lock is only as good as the session holding it. Behind a transaction-pooling
proxy (PgBouncer in transaction mode) each statement may run in another server
session, so the lock would stay with a session nobody holds: taking the lock checks
that the session that took it is the one that answers next, and refuses otherwise.
A lost connection (a restarted server, `pg_terminate_backend`, a network cut)
means a lost lock: before every batch the applier checks, and stops before
changing anything more. That check looks at the lock's connection without a
round trip: a session that ends says so on it (its last words, then the socket's
end), and anything the server said makes the check ask the session itself. It
asks at least once a second anyway: over a network that went silent the question
hangs, and the run stops long before the server could let go of the lock (which
waits for its TCP keepalive to give up on the connection).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from onenet_apply.backends.base import LockHolder, LockTimeout
from onenet_apply.store.actor import Actor
from onenet_apply.store.connection import first_line, iso_utc
from onenet_apply.store.errors import LockLostError, StoreError
from onenet_apply.store.keys import advisory_key

if TYPE_CHECKING:
    import psycopg

Waiting = Callable[[str], None]  # told once, in words, when the lock is busy

POOLED = (
    "the state store's connection does not keep one database session from statement "
    "to statement, as behind a transaction-pooling proxy (PgBouncer in transaction "
    "mode), so it cannot hold the site's lock: connect to PostgreSQL directly, or "
    "through session pooling"
)

# the server's or role's timeouts must not end the wait, nor the idle session that
# holds the lock through a long batch (idle_session_timeout exists from PostgreSQL 14)
_OWN_TIMEOUTS = """
SELECT set_config('statement_timeout', '0', false),
       CASE WHEN current_setting('server_version_num')::int >= 140000
            THEN set_config('idle_session_timeout', '0', false) END
"""

# a check before a batch asks the lock's session at least this often (seconds); in
# between, a connection on which the server said nothing stands for its answer
ASK_EVERY = 1.0

# the lock on a bigint key, as pg_locks shows it: high and low 32 bits, objsubid 1
_HOLDER = """
SELECT a.pid, a.application_name, a.backend_start, a.client_addr,
       r.os_user, r.host, r.pid, r.command, r.ci_run, r.since
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
LEFT JOIN onenet_site_locks r ON r.lock_key = %(key)s AND r.session_pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid = %(high)s::oid AND l.objid = %(low)s::oid
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
_HOLDER_SESSION = """
SELECT l.pid FROM pg_locks l
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid = %(high)s::oid AND l.objid = %(low)s::oid
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
_MINE = """
SELECT pg_backend_pid(), EXISTS (
  SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
    AND pid = pg_backend_pid() AND classid = %(high)s::oid AND objid = %(low)s::oid)
"""
_CLAIM = """
INSERT INTO onenet_site_locks
  (lock_key, site, platform, session_pid, os_user, host, pid, command, ci_run, since)
VALUES (%(key)s, %(site)s, %(platform)s, pg_backend_pid(), %(os_user)s, %(host)s, %(pid)s,
        %(command)s, %(ci_run)s, now())
ON CONFLICT (lock_key) DO UPDATE SET
  site = excluded.site, platform = excluded.platform, session_pid = excluded.session_pid,
  os_user = excluded.os_user, host = excluded.host, pid = excluded.pid,
  command = excluded.command, ci_run = excluded.ci_run, since = excluded.since
"""


def key_parts(key: int) -> dict[str, int]:
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return {"key": key, "high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF}


class StoreLocks:
    """`SiteLocks` on the store's connection (see the module docstring)."""

    def __init__(
        self,
        conn: psycopg.Connection,
        schema: str,
        actor: Actor,
        platform: Callable[[str], str],
        waiting: Waiting | None = None,
    ) -> None:
        self.conn = conn
        self.schema = schema
        self.actor = actor
        self.platform = platform  # the site as its platform knows it: backend + site
        self.waiting = waiting
        self.session_pid: int | None = None
        self._answered_at: float | None = None  # when the session last said it holds it

    def key(self, site_id: str) -> int:
        return advisory_key(self.schema, self.platform(site_id))

    @contextmanager
    def lock(self, site_id: str, timeout: float, command: str = "") -> Iterator[None]:
        parts = key_parts(self.key(site_id))
        self._acquire(site_id, parts, timeout)
        try:
            self._claim(site_id, parts, command)
            yield
        finally:
            self.session_pid = self._answered_at = None
            with suppress(Exception):  # a lost connection has let go already
                self.conn.execute(
                    "DELETE FROM onenet_site_locks WHERE lock_key = %(key)s "
                    "AND session_pid = pg_backend_pid()",
                    parts,
                )
                self.conn.execute("SELECT pg_advisory_unlock(%(key)s)", parts)

    def _acquire(self, site_id: str, parts: dict[str, int], timeout: float) -> None:
        import psycopg

        started = time.monotonic()
        try:
            self.conn.execute(_OWN_TIMEOUTS)
            got = self._one("SELECT pg_try_advisory_lock(%(key)s)", parts)
            if got:
                return
            holder = self.holder(parts)
            if timeout <= 0:
                raise LockTimeout(site_id, holder, 0)
            if self.waiting is not None:
                who = holder.describe() if holder else "another session"
                self.waiting(f"Site {site_id} is locked by {who}; waiting up to {timeout:g}s...")
            self.conn.execute(f"SET lock_timeout = {max(1, round(timeout * 1000))}")
            try:
                self.conn.execute("SELECT pg_advisory_lock(%(key)s)", parts)
            except psycopg.errors.LockNotAvailable:
                waited = time.monotonic() - started
                raise LockTimeout(site_id, self.holder(parts) or holder, waited) from None
            finally:
                with suppress(psycopg.Error):
                    self.conn.execute("RESET lock_timeout")
        except psycopg.Error as e:
            raise StoreError(
                f"could not lock site {site_id} in the state store: {first_line(e)}"
            ) from None

    def _claim(self, site_id: str, parts: dict[str, int], command: str) -> None:
        """Check the session holds the lock (see POOLED), then name the holder."""
        import psycopg

        try:
            row = self.conn.execute(_MINE, parts).fetchone()
            if not row or not row[1]:
                raise StoreError(POOLED)
            self.session_pid = int(row[0])
            self._answered_at = time.monotonic()
            actor = self.actor
            self.conn.execute(
                _CLAIM,
                {
                    **parts,
                    "site": site_id,
                    "platform": self.platform(site_id),
                    "os_user": actor.os_user,
                    "host": actor.host,
                    "pid": actor.pid,
                    "command": command or actor.command,
                    "ci_run": actor.ci_run,
                },
            )
        except psycopg.Error as e:
            raise StoreError(
                f"could not lock site {site_id} in the state store: {first_line(e)}"
            ) from None

    def ensure_held(self, site_id: str) -> None:
        """Raise LockLostError unless this connection's session still holds the lock."""
        why = self.why_lost()
        if why is not None:
            raise lock_lost(site_id, why)

    def why_lost(self) -> str | None:
        """None while this connection's session still holds the lock (one round
        trip), else why it does not."""
        import psycopg

        try:
            pid = self._one("SELECT pg_backend_pid()", {})
        except psycopg.Error as e:
            return first_line(e)
        if pid != self.session_pid:
            return POOLED
        self._answered_at = time.monotonic()
        return None

    def why_lost_before_batch(self) -> str | None:
        """`why_lost`, asked of the session only when the server said anything on
        the lock's connection since its last answer, or that answer is ASK_EVERY
        old; otherwise the quiet connection stands for it (see the module's doc)."""
        answered = self._answered_at
        if answered is not None and time.monotonic() - answered < ASK_EVERY and _quiet(self.conn):
            return None
        return self.why_lost()

    def break_lock(self, site_id: str) -> LockHolder | None:
        """End the session holding the site's lock (PostgreSQL then lets go of it) and
        remove its row; who held it, or None when nobody did. The holder, if it still
        runs, finds its connection gone and stops before its next batch."""
        import psycopg

        parts = key_parts(self.key(site_id))
        try:
            holder = self.holder(parts)
            session = self._one(_HOLDER_SESSION, parts)
            if session is not None:
                self.conn.execute("SELECT pg_terminate_backend(%s, 5000)", (session,))
            self.conn.execute("DELETE FROM onenet_site_locks WHERE lock_key = %(key)s", parts)
        except psycopg.errors.InsufficientPrivilege:
            raise StoreError(
                f"not allowed to end the session holding site {site_id}'s lock: that takes "
                "the holder's database role, or one with pg_signal_backend"
            ) from None
        except psycopg.Error as e:
            raise StoreError(f"could not break site {site_id}'s lock: {first_line(e)}") from None
        return holder if session is not None else None

    def holder(self, parts: dict[str, int]) -> LockHolder | None:
        """Who holds the lock now: its row when the holder wrote one, else what
        pg_stat_activity tells of its session."""
        row = self.conn.execute(_HOLDER, parts).fetchone()
        if row is None:
            return None
        session, app_name, backend_start, client, user, host, pid, command, ci, since = row
        if pid is None:  # not (yet) named by a row: describe the session
            where = str(client) if client else "this server"
            return LockHolder(int(session), where, iso_utc(backend_start), app_name or "")
        what = f"{command}, {user}" + (f", CI run {ci}" if ci else "")
        return LockHolder(int(pid), host, iso_utc(since), what)

    def _one(self, sql: str, params: dict[str, int]) -> object:
        row = self.conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None


def _quiet(conn: psycopg.Connection) -> bool:
    """Nothing from the server waits to be read on `conn` (a look, not a wait)."""
    import select

    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except Exception:  # a closed or broken connection has no socket to look at
        return False
    return not readable


def lock_lost(site_id: str, why: str, unrecorded: int = 0) -> LockLostError:
    """The error of a run whose lock session is gone; `unrecorded`: the actions of
    the batch that ran as it went, which the history could not take."""
    last = (
        f" The outcomes of the last batch ({unrecorded} actions) are not in the history."
        if unrecorded
        else ""
    )
    return LockLostError(
        f"lost the lock of site {site_id}: the state store's connection that held it "
        f"failed ({why}); stopped before the next batch, so nothing ran without the "
        f"lock.{last} Apply again: it plans from what the site now is"
    )
