"""The apply history: one row per run (apply, credentials reset, lock break) and
one per action it carried out, written as the run goes.

A run's row is written when it has the site's lock, so a run that waited and gave
up leaves none; its outcome is `running` until it ends. A run whose process died
keeps `running`: a reader shows it as interrupted once its connection is gone.
A batch's action rows go in as one statement right after the batch, and that same
statement returns the session's pid: it is also the check that the lock is still
held before the next batch, so the history and the lock together cost one round
trip per hundred actions. Nothing here holds a secret: messages are the plan's
words and the backend's refusals, which never carry a password.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from onenet_apply.apply.ledger import ActionOutcome
from onenet_apply.store.actor import Actor
from onenet_apply.store.connection import first_line
from onenet_apply.store.errors import StoreError
from onenet_apply.store.lock import lock_lost

if TYPE_CHECKING:
    import psycopg

    from onenet_apply.model.plan import Plan
    from onenet_apply.store.lock import StoreLocks

_BEGIN = """
INSERT INTO onenet_runs (kind, site, platform, os_user, host, pid, command, ci_run,
                         source_file, source_commit, session_pid)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, pg_backend_pid()) RETURNING id
"""
# one statement a batch: its rows as one JSON parameter (encoded in C here, parsed
# in C on the server), and the session's pid back, for the lock's check. Its commit
# does not wait for the server's disk (synchronous_commit off for this statement's
# transaction alone): the apply does not stall on a WAL flush per batch. A crash of
# the server itself can lose the last fraction of a second of rows; the run's end,
# committed as usual, makes every row before it durable.
_RECORD = """
WITH written AS (
  INSERT INTO onenet_run_actions (run_id, seq, at, action_id, outcome, message)
  SELECT %(run)s, %(seq)s + r.n, %(at)s, r.v->>0, r.v->>1, r.v->>2
  FROM json_array_elements(%(rows)s::json) WITH ORDINALITY AS r(v, n)
)
SELECT pg_backend_pid(), set_config('synchronous_commit', 'off', true)
"""
# how long a recorded batch stands for the lock's check: the next batch follows it
# within milliseconds; anything slower (a wait for activations) checks again
_CHECK_FRESH_FOR = 0.05


class RunLog:
    """A `Ledger` writing one run to the history, on the connection that holds the
    site's lock (`before_batch` is the lock's check). When that connection is lost
    the lock is too, but what the last batch did is still written, on a new
    connection (`reopen`), before the next check stops the run."""

    def __init__(
        self,
        conn: psycopg.Connection,
        kind: str,
        site_id: str,
        actor: Actor,
        locks: StoreLocks,
        source: tuple[str, str] = ("", ""),  # the file applied and its git commit
        reopen: Callable[[], psycopg.Connection] | None = None,
    ) -> None:
        self.conn = conn
        self.reopen = reopen
        self.kind = kind
        self.site_id = site_id
        self.actor = actor
        self.locks = locks
        self.source = source
        self.run_id: int | None = None
        self.seq = 0
        self._checked_at: float | None = None  # when a record last proved the lock held

    def begin(self) -> None:
        a = self.actor
        row = self._write(
            _BEGIN,
            (self.kind, self.site_id, self.locks.platform(self.site_id), a.os_user, a.host,
             a.pid, a.command, a.ci_run, *self.source),
        )  # fmt: skip
        self.run_id = int(row[0]) if row else None

    def planned(self, plan: Plan, plan_digest: str = "") -> None:
        self._write(
            "UPDATE onenet_runs SET spec_digest = %s, state_digest = %s, plan_digest = %s "
            "WHERE id = %s",
            (plan.spec_digest, plan.state_digest, plan_digest, self.run_id),
        )

    def before_batch(self) -> None:
        checked, self._checked_at = self._checked_at, None
        if checked is not None and time.monotonic() - checked < _CHECK_FRESH_FOR:
            return  # the last batch's record, just now, on the lock's own session
        self.locks.ensure_held(self.site_id)

    def record(self, outcomes: Sequence[ActionOutcome]) -> None:
        if not outcomes or self.run_id is None:
            return
        params = {
            "run": self.run_id,
            "seq": self.seq,
            "at": datetime.now(UTC),
            "rows": json.dumps([(o.action_id, o.outcome, o.message) for o in outcomes]),
        }
        self.seq += len(outcomes)
        lock_conn = self.conn

        def insert_rows(conn: psycopg.Connection) -> None:
            row = conn.execute(_RECORD, params).fetchone()
            if conn is lock_conn and row is not None and row[0] == self.locks.session_pid:
                self._checked_at = time.monotonic()

        self._on_connection(insert_rows, unrecorded=len(outcomes))

    def end(self, outcome: str, summary: Mapping[str, int], message: str = "") -> None:
        self._write(
            "UPDATE onenet_runs SET finished_at = clock_timestamp(), outcome = %s, "
            "summary = %s, message = %s WHERE id = %s",
            (outcome, json.dumps(dict(summary)), message, self.run_id),
        )

    def _write(self, sql: str, params: tuple[object, ...]) -> tuple[object, ...] | None:
        found: list[tuple[object, ...] | None] = []

        def execute(conn: psycopg.Connection) -> None:
            cur = conn.execute(sql, params)  # type: ignore[arg-type]
            found.append(cur.fetchone() if cur.description else None)

        self._on_connection(execute)
        return found[0]

    def _on_connection(
        self, work: Callable[[psycopg.Connection], None], unrecorded: int = 0
    ) -> None:
        """Do `work` on the lock's connection. Once that is lost (and the lock with
        it), do it once more on a new connection, so the history keeps what already
        happened; if even that fails, the run stops as one that lost its lock, saying
        how many actions (`unrecorded`) the history misses."""
        import psycopg

        try:
            work(self.conn)
            return
        except psycopg.Error as e:
            if not self.conn.broken:
                raise StoreError(
                    f"could not write the history of site {self.site_id} to the state "
                    f"store: {first_line(e)}; stopped, so nothing ran unrecorded"
                ) from None
            lost = first_line(e)
        reopen, self.reopen = self.reopen, None
        if reopen is not None:
            try:
                self.conn = reopen()
                work(self.conn)
                return
            except (psycopg.Error, StoreError):
                pass
        raise lock_lost(self.site_id, lost, unrecorded)
