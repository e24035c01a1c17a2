"""A run's action rows, written on a connection of their own while the next batch
runs.

The server's work for a batch's rows (parse a JSON array, insert a hundred rows,
commit) is about a millisecond: waiting for it before each batch was most of
what the history cost per action. So each batch's rows are sent without waiting (libpq's asynchronous
send, one statement in flight) and the answer is read when the next batch's rows
go, or when the run ends: the server inserts while the next batch runs. The
lock's check does not wait for them (store/lock.py).

What that costs in a failure: rows are confirmed one batch late. When their
connection is lost, the rows not yet confirmed are sent again, once, on a new
connection; when that fails too, or the server refuses them, the run stops at
the next batch's start, having run at most one batch after the one whose rows
are not in the history (whose rows are missing too), and says how many actions
that is.
"""

from __future__ import annotations

import json
import select
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from onenet_apply.apply.ledger import ActionOutcome
from onenet_apply.store.connection import first_line

if TYPE_CHECKING:
    import psycopg

# one statement a batch: its rows as one JSON parameter (encoded in C here, parsed
# in C on the server); sent again after a lost answer, rows already in are kept
# as they are (a row is its run and sequence number). Its commit does not wait for the server's disk
# (synchronous_commit off for this statement's transaction alone): a crash of the
# server itself can lose the last fraction of a second of rows; the run's end,
# committed as usual, makes every row before it durable.
_INSERT = b"""
WITH written AS (
  INSERT INTO onenet_run_actions (run_id, seq, at, action_id, outcome, message)
  SELECT $1::bigint, $2::integer + r.n, $3::timestamptz, r.v->>0, r.v->>1, r.v->>2
  FROM json_array_elements($4::json) WITH ORDINALITY AS r(v, n)
  ON CONFLICT (run_id, seq) DO NOTHING
)
SELECT set_config('synchronous_commit', 'off', true)
"""


class RowsNotWritten(Exception):
    """The rows of `unrecorded` actions could not be written; `why` says why."""

    def __init__(self, why: str, unrecorded: int) -> None:
        super().__init__(why)
        self.why = why
        self.unrecorded = unrecorded


@dataclass(frozen=True, slots=True)
class _Batch:
    params: tuple[bytes, bytes, bytes, bytes]
    count: int


class ActionRows:
    """The action rows of run `run_id`, one batch in flight at a time, on a
    connection opened (by `connect`) before the first batch."""

    def __init__(self, run_id: int, connect: Callable[[], psycopg.Connection]) -> None:
        self.run_id = run_id
        self.connect = connect
        self.conn: psycopg.Connection | None = None
        self.seq = 0
        self.sent: _Batch | None = None  # in flight, not yet confirmed
        self.failed: RowsNotWritten | None = None

    def send(self, outcomes: Sequence[ActionOutcome]) -> None:
        """Send a batch's rows after confirming the last one's; a failure to confirm
        is kept for `settle`, and this batch's rows count as not written."""
        batch = _Batch(
            (
                str(self.run_id).encode(),
                str(self.seq).encode(),
                datetime.now(UTC).isoformat().encode(),
                json.dumps([(o.action_id, o.outcome, o.message) for o in outcomes]).encode(),
            ),
            len(outcomes),
        )
        self.seq += len(outcomes)
        if self.failed is None:
            try:
                self._confirm()
                self._send(batch)
                return
            except RowsNotWritten as e:
                self.failed = e
        self.failed = RowsNotWritten(self.failed.why, self.failed.unrecorded + batch.count)

    def open(self) -> None:
        """Open the rows' connection now, before the first batch runs: a store that
        takes no second connection then stops the run before it changes anything.
        Raise RowsNotWritten (of no action) when it cannot be opened."""
        if self.conn is None and self.failed is None:
            self.conn = self._open()

    def settle(self) -> None:
        """Wait until every row sent is written; raise RowsNotWritten if some never
        will be."""
        if self.failed is None:
            try:
                self._confirm()
            except RowsNotWritten as e:
                self.failed = e
        if self.failed is not None:
            raise self.failed

    def usable_connection(self) -> psycopg.Connection | None:
        """This connection when it still works (for the run's end, after the lock's
        connection was lost), else None."""
        if self.conn is None or self.conn.broken or self.conn.closed:
            return None
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def _send(self, batch: _Batch) -> None:
        """Send `batch` (a failure counts none of its rows: the caller does)."""
        import psycopg

        if self.conn is None:
            self.conn = self._open()
        try:
            _send_query(self.conn, batch.params)
        except psycopg.Error as e:
            self._again(batch, first_line(e))
            return
        self.sent = batch

    def _confirm(self) -> None:
        """Read the answer to the batch in flight; a lost connection sends it again."""
        import psycopg

        batch, self.sent = self.sent, None
        if batch is None or self.conn is None:
            return
        try:
            _read_answer(self.conn)
        except psycopg.Error as e:
            if not self.conn.broken:  # refused by a working server: sending again is no use
                raise RowsNotWritten(first_line(e), batch.count) from None
            try:
                self._again(batch, first_line(e))
            except RowsNotWritten as again:
                raise RowsNotWritten(again.why, batch.count) from None

    def _again(self, batch: _Batch, lost: str) -> None:
        """Write `batch` once more, waiting for it, on a new connection."""
        import psycopg

        if self.conn is not None:
            self.conn.close()
        try:
            self.conn = self._open()
            _send_query(self.conn, batch.params)
            _read_answer(self.conn)
        except (psycopg.Error, RowsNotWritten) as e:
            why = e.why if isinstance(e, RowsNotWritten) else first_line(e)
            raise RowsNotWritten(f"{lost}; again on a new connection: {why}", 0) from None

    def _open(self) -> psycopg.Connection:
        from onenet_apply.store.errors import StoreError

        try:
            return self.connect()
        except StoreError as e:
            raise RowsNotWritten(str(e), 0) from None


def _send_query(conn: psycopg.Connection, params: Sequence[bytes]) -> None:
    """Send the insert without waiting for the server's answer."""
    pgconn = conn.pgconn
    pgconn.send_query_params(_INSERT, list(params))
    while pgconn.flush():  # 1: part of it is still to go
        select.select([], [pgconn.socket], [])


def _read_answer(conn: psycopg.Connection) -> None:
    """Wait for the answer to the statement sent; raise psycopg.Error if it failed."""
    import psycopg
    from psycopg import pq

    pgconn = conn.pgconn
    pgconn.consume_input()
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    error = ""
    while (result := pgconn.get_result()) is not None:
        if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
            said = result.error_message.decode(errors="replace").strip()
            error = error or said.removeprefix("ERROR:").strip()
    if error:
        raise psycopg.OperationalError(error)
