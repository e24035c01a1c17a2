"""A store opened for one command: its connection, schema, lock and history.

`open_store` connects (one dedicated connection, named after the command), brings
the tables up to date, and hands out the `SiteLocks` and the `Ledger` the applier
uses. One connection serves both: the history rows of a run are written by the
session that holds the site's lock, so a run that lost its lock cannot go on
writing as if it had it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from onenet_apply.store.actor import Actor, git_source
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
        recorded with its git commit."""
        source = git_source(source_file) if source_file else ("", "")
        return RunLog(self.conn, kind, site_id, self.actor, locks, source, self.reopen)

    def reopen(self) -> psycopg.Connection:
        """A new connection, for the history of a run whose lock connection was lost."""
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
