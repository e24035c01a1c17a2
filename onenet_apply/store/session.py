"""A store opened for one command: its connection, schema, lock and history.

`open_store` connects (one dedicated connection, named after the command), brings
the tables up to date, and hands out the `SiteLocks` and the `Ledger` the applier
uses. That connection holds the site's lock and writes each run's row; a run's
action rows go on a second one (`another_connection`), so the server inserts
them while the next batch runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from onenet_apply.store.actor import Actor, file_digest, git_source
from onenet_apply.store.address import StateAddress
from onenet_apply.store.connection import connect, first_line
from onenet_apply.store.errors import StoreError
from onenet_apply.store.history import RunLog
from onenet_apply.store.lock import StoreLocks, Waiting
from onenet_apply.store.schema import check_schema, current_schema, ensure_schema

if TYPE_CHECKING:
    import psycopg


@dataclass
class Store:
    address: StateAddress
    conn: psycopg.Connection
    schema: str
    actor: Actor
    has_tables: bool = True  # False: a store nobody has written to yet (read, not set up)
    spare: list[psycopg.Connection] = field(default_factory=list)  # opened for the history

    def locks(self, platform: Callable[[str], str], waiting: Waiting | None = None) -> StoreLocks:
        return StoreLocks(self.conn, self.schema, self.actor, platform, waiting)

    def run_log(self, kind: str, site_id: str, locks: StoreLocks, source_file: str = "") -> RunLog:
        """The history of one run; `source_file` (the site or plan file applied) is
        recorded with its git commit and the digest of its bytes."""
        source = (*git_source(source_file), file_digest(source_file)) if source_file else ()
        return RunLog(self.conn, kind, site_id, self.actor, locks, source, self.another_connection)

    def another_connection(self) -> psycopg.Connection:
        """A new connection, for a run's action rows, or for the rest of its history
        once its lock's connection is lost."""
        conn = connect(self.address, self.actor.application_name("history"))
        self.spare.append(conn)
        return conn

    def close(self) -> None:
        for conn in (self.conn, *self.spare):
            conn.close()


def open_store(
    address: StateAddress, actor: Actor, site_id: str = "", *, migrate: bool = True
) -> Store:
    """The store at `address`, its tables brought up to date (`migrate`) or, for a
    reader, only checked; a StoreError says why it cannot be used."""
    import psycopg

    conn = connect(address, actor.application_name(site_id))
    try:
        if migrate:
            version = ensure_schema(conn, address.redacted())
        else:
            version = check_schema(conn, address.redacted())
        return Store(address, conn, current_schema(conn), actor, version > 0)
    except psycopg.Error as e:
        conn.close()
        raise StoreError(f"the state store {address.redacted()}: {first_line(e)}") from None
    except BaseException:
        conn.close()
        raise
