"""The apply history: one row per run (apply, credentials reset, lock break) and
one per action it carried out, written as the run goes.

A run's row is written when it has the site's lock, so a run that waited and gave
up leaves none; its outcome is `running` until it ends. A run whose process died
keeps `running`: a reader shows it as interrupted once its lock's session is gone.
Before each batch the lock's connection is checked (store/lock.py); a batch's
action rows go in on a connection of their own while the next batch runs
(store/action_rows.py). Nothing here holds a secret: messages are the plan's
words and the backend's refusals, which never carry a password.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from onenet_apply.apply.ledger import ActionOutcome
from onenet_apply.store.action_rows import ActionRows, RowsNotWritten
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
                         source_file, source_commit, source_digest, session_pid)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, pg_backend_pid()) RETURNING id
"""


class RunLog:
    """A `Ledger` writing one run to the history. The run's row goes on the lock's
    connection; `before_batch` checks that its session still holds the lock
    (store/lock.py). The action rows go on a second connection (`connect` opens
    it), which also writes the run's end when the lock's connection is lost, so
    the history keeps what the run did before it stopped."""

    def __init__(
        self,
        conn: psycopg.Connection,
        kind: str,
        site_id: str,
        actor: Actor,
        locks: StoreLocks,
        source: tuple[str, ...] = (),  # the file applied, its git commit, its digest
        connect: Callable[[], psycopg.Connection] | None = None,
    ) -> None:
        self.conn = conn
        self.connect = connect
        self.kind = kind
        self.site_id = site_id
        self.actor = actor
        self.locks = locks
        self.source = (*source, "", "", "")[:3]
        self.run_id: int | None = None
        self.rows: ActionRows | None = None

    def begin(self) -> None:
        a = self.actor
        row = self._write(
            _BEGIN,
            (self.kind, self.site_id, self.locks.platform(self.site_id), a.os_user, a.host,
             a.pid, a.command, a.ci_run, *self.source),
        )  # fmt: skip
        self.run_id = int(row[0]) if row else None
        if self.run_id is not None and self.connect is not None:
            self.rows = ActionRows(self.run_id, self.connect)

    def planned(self, plan: Plan, plan_digest: str = "") -> None:
        """A saved plan's digests. A site file's run has its file's digest already
        (`begin`): the plan's spec and state digests, canonical JSON of the whole
        site and state, would cost as much as planning, for nothing that file, its
        commit and digest do not already say."""
        if not plan_digest:
            return
        self._write(
            "UPDATE onenet_runs SET spec_digest = %s, state_digest = %s, plan_digest = %s "
            "WHERE id = %s",
            (plan.spec_digest, plan.state_digest, plan_digest, self.run_id),
        )

    def before_batch(self) -> None:
        """Stop unless the lock is still held (store/lock.py says how that is
        checked) and the history keeps up: its connection opens before the first
        batch, and the rows of the batch before last are written."""
        why = self.locks.why_lost_before_batch()
        if why is not None:
            raise lock_lost(self.site_id, why, self._unrecorded())
        if self.rows is not None and self.rows.failed is not None:
            raise self._rows_error(self.rows.failed)
        if self.rows is not None:
            try:
                self.rows.open()
            except RowsNotWritten as e:
                raise self._history_error(e.why, "stopped, so nothing ran unrecorded") from None

    def record(self, outcomes: Sequence[ActionOutcome]) -> None:
        if outcomes and self.rows is not None:
            self.rows.send(outcomes)

    def end(self, outcome: str, summary: Mapping[str, int], message: str = "") -> None:
        """Write the run's end once its action rows are in; a run that ended as
        planned but whose rows are not all in failed, and says so (a failed run's
        message says why it stopped already)."""
        missing = self._unrecorded()
        failed = self.rows.failed if self.rows is not None else None
        unwritten = self._rows_error(failed) if missing and failed is not None else None
        if unwritten is not None and outcome in ("ok", "pending", "blocked"):
            outcome = "failed"
            message = "; ".join(m for m in (message, str(unwritten)) if m)
        self._write(
            "UPDATE onenet_runs SET finished_at = clock_timestamp(), outcome = %s, "
            "summary = %s, message = %s WHERE id = %s",
            (outcome, json.dumps(dict(summary)), message, self.run_id),
        )
        if self.rows is not None:
            self.rows.close()
        if unwritten is not None:
            raise unwritten

    def _unrecorded(self) -> int:
        """Wait for the action rows sent; how many actions' rows never made it."""
        if self.rows is None:
            return 0
        try:
            self.rows.settle()
        except RowsNotWritten as e:
            return e.unrecorded
        return 0

    def _rows_error(self, failed: RowsNotWritten) -> StoreError:
        return self._history_error(
            failed.why,
            f"stopped. The outcomes of the last {failed.unrecorded} actions are not in the history",
        )

    def _history_error(self, why: str, then: str) -> StoreError:
        return StoreError(
            f"could not write the history of site {self.site_id} to the state store: {why}; {then}"
        )

    def _write(self, sql: str, params: tuple[object, ...]) -> tuple[object, ...] | None:
        """Run `sql` on the lock's connection; once that is lost (and the lock with
        it), on the action rows' connection or a new one, so the history keeps the
        run's end; if even that fails, the run stops as one that lost its lock."""
        import psycopg

        try:
            return _one_row(self.conn, sql, params)
        except psycopg.Error as e:
            if not self.conn.broken:
                raise self._history_error(
                    first_line(e), "stopped, so nothing ran unrecorded"
                ) from None
            lost = first_line(e)
        spare = self.rows.usable_connection() if self.rows is not None else None
        try:
            if spare is None and self.connect is not None:
                spare = self.connect()
            if spare is not None:
                self.conn = spare
                return _one_row(spare, sql, params)
        except (psycopg.Error, StoreError):
            pass
        raise lock_lost(self.site_id, lost)


def _one_row(
    conn: psycopg.Connection, sql: str, params: tuple[object, ...]
) -> tuple[object, ...] | None:
    cur = conn.execute(sql, params)  # type: ignore[arg-type]
    return cur.fetchone() if cur.description else None
