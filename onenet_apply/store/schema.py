"""The store's tables, versioned: migrations applied on first use, all or nothing.

The tables live in the connection's current schema (`search_path`), named
`onenet_*` so they can share a schema with others. `onenet_schema_version` has one
row per migration applied. A connection that finds the schema behind takes a
transaction-level advisory lock (so two first uses do not race), applies every
missing migration and its version row in one transaction, and commits; any
failure rolls all of it back. A schema newer than this onenet knows is refused:
an older tool must not write tables whose meaning has moved on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from onenet_apply.store.connection import first_line
from onenet_apply.store.errors import StoreError
from onenet_apply.store.keys import advisory_key

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    what: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "site locks and the apply history",
        """
        CREATE TABLE onenet_site_locks (
            lock_key bigint PRIMARY KEY,
            site text NOT NULL,
            platform text NOT NULL,
            session_pid integer NOT NULL,
            os_user text NOT NULL,
            host text NOT NULL,
            pid integer NOT NULL,
            command text NOT NULL,
            ci_run text NOT NULL DEFAULT '',
            since timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE onenet_runs (
            id bigserial PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('apply', 'credentials-reset', 'lock-break')),
            site text NOT NULL,
            platform text NOT NULL,
            started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            finished_at timestamptz,
            outcome text NOT NULL DEFAULT 'running',
            message text NOT NULL DEFAULT '',
            os_user text NOT NULL,
            host text NOT NULL,
            pid integer NOT NULL,
            command text NOT NULL,
            ci_run text NOT NULL DEFAULT '',
            source_file text NOT NULL DEFAULT '',
            source_commit text NOT NULL DEFAULT '',
            plan_digest text NOT NULL DEFAULT '',
            spec_digest text NOT NULL DEFAULT '',
            state_digest text NOT NULL DEFAULT '',
            summary jsonb,
            session_pid integer
        );
        CREATE INDEX onenet_runs_by_site ON onenet_runs (site, started_at);
        CREATE TABLE onenet_run_actions (
            -- no foreign key: checking it would cost a third of each batch's insert;
            -- a run's actions are only ever written by the run, after its row
            run_id bigint NOT NULL,
            seq integer NOT NULL,
            at timestamptz NOT NULL,
            action_id text NOT NULL,
            outcome text NOT NULL,
            message text NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, seq)
        );
        """,
    ),
    Migration(
        2,
        "the digest of the file applied",
        """
        ALTER TABLE onenet_runs ADD COLUMN source_digest text NOT NULL DEFAULT '';
        """,
    ),
)
LATEST = MIGRATIONS[-1].version

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS onenet_schema_version (
    version integer PRIMARY KEY,
    what text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def current_version(conn: psycopg.Connection) -> int:
    """The version of the store's tables in the connection's schema (0: none yet)."""
    row = conn.execute("SELECT to_regclass('onenet_schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    found = conn.execute("SELECT coalesce(max(version), 0) FROM onenet_schema_version").fetchone()
    return int(found[0]) if found else 0


def check_schema(conn: psycopg.Connection, where: str) -> int:
    """The tables' version, for a reader that changes nothing; refused when newer."""
    version = current_version(conn)
    if version > LATEST:
        raise _too_new(version, LATEST, where)
    return version


def ensure_schema(
    conn: psycopg.Connection, where: str, migrations: tuple[Migration, ...] = MIGRATIONS
) -> int:
    """Bring the store's tables up to date (see the module docstring); their version.
    `conn` is in autocommit mode; `where` names the store in messages."""
    latest = migrations[-1].version
    version = current_version(conn)
    if version == latest:  # the common case: one query, no lock
        return version
    if version > latest:
        raise _too_new(version, latest, where)
    schema = current_schema(conn)
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(schema, "migrate"),))
            conn.execute(_VERSION_TABLE)
            version = current_version(conn)  # another first use may have done it meanwhile
            if version > latest:
                raise _too_new(version, latest, where)
            for step in migrations:
                if step.version > version:
                    conn.execute(step.sql)  # type: ignore[arg-type]  (our own constant SQL)
                    conn.execute(
                        "INSERT INTO onenet_schema_version (version, what) VALUES (%s, %s)",
                        (step.version, step.what),
                    )
    except StoreError:
        raise
    except Exception as e:  # psycopg's errors; nothing of the migration stays
        raise StoreError(
            f"could not set up the state store's tables in {where} (schema {schema}): "
            f"{first_line(e)}; nothing was changed"
        ) from None
    return latest


def current_schema(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    if not row or row[0] is None:
        raise StoreError(
            "the state store's connection has no schema to keep its tables in: give one "
            "that exists through search_path (e.g. ?options=-csearch_path%3Donenet)"
        )
    return str(row[0])


def _too_new(version: int, latest: int, where: str) -> StoreError:
    return StoreError(
        f"the state store in {where} has schema version {version}, newer than this onenet "
        f"knows ({latest}): upgrade onenet before using it"
    )
