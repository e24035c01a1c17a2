"""The sandbox's SQLite file: connection settings, schema and migrations.

WAL mode with `synchronous=FULL`: every action (or batch of actions) is one
transaction that is on disk when `execute` (`execute_batch`) returns, and a
process killed at any instant leaves either all of an action or none of it. Numbers and extensions live in tables of their
own with primary keys, so "a number belongs to one user or group" holds even if
a rule check in Python were wrong.
"""

from __future__ import annotations

import functools
import inspect
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from onenet_apply.backends.base import BackendError

SCHEMA_VERSION = 6
# Small pages: an action dirties about seven b-tree pages, all rewritten to the WAL
# and synced at every commit, so smaller pages mean fewer bytes per durable action.
PAGE_SIZE = 2048

_V1 = """
CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    activation  TEXT NOT NULL DEFAULT 'manual',  -- manual | immediate | after:SECONDS
    licences    TEXT,                            -- JSON {package or option: owned}, NULL: unlimited
    created_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE users (
    site            TEXT NOT NULL REFERENCES sites(id),
    id              TEXT NOT NULL,
    lifecycle       TEXT NOT NULL
                    CHECK (lifecycle IN ('pending', 'activated', 'deactivated', 'failed')),
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    username        TEXT NOT NULL,
    email           TEXT,
    number          TEXT NOT NULL,
    extension       TEXT NOT NULL,
    package         TEXT NOT NULL,
    options         TEXT NOT NULL,  -- JSON list
    services        TEXT NOT NULL,  -- JSON list
    desk_phone      TEXT NOT NULL,
    mobile          TEXT,           -- JSON {number, contract}
    deactivation    TEXT,           -- JSON {transfer_to, caller}
    activate_at     REAL,           -- carrier: when a pending user activates by itself
    login_username  TEXT,           -- desk phone login details, with a desk phone only
    secret_hash     TEXT,           -- salted hash; the password itself is never stored
    login_issued_at TEXT,
    PRIMARY KEY (site, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_username ON users (site, username COLLATE NOCASE);
CREATE INDEX users_due ON users (site, activate_at) WHERE activate_at IS NOT NULL;
CREATE TABLE groups (
    site         TEXT NOT NULL REFERENCES sites(id),
    type         TEXT NOT NULL,
    id           TEXT NOT NULL,
    lifecycle    TEXT NOT NULL
                 CHECK (lifecycle IN ('pending', 'activated', 'failed')),
    name         TEXT NOT NULL,
    number       TEXT,
    extension    TEXT,
    settings     TEXT NOT NULL,  -- JSON: policy, no_answer, edition, recall_timer
    activate_at  REAL,
    PRIMARY KEY (site, type, id)
) WITHOUT ROWID;
CREATE INDEX groups_due ON groups (site, activate_at) WHERE activate_at IS NOT NULL;
CREATE TABLE numbers (
    site        TEXT NOT NULL,
    number      TEXT NOT NULL,
    owner_type  TEXT NOT NULL,
    owner_id    TEXT NOT NULL,
    PRIMARY KEY (site, number)
) WITHOUT ROWID;
CREATE TABLE extensions (
    site        TEXT NOT NULL,
    extension   TEXT NOT NULL,
    owner_type  TEXT NOT NULL,
    owner_id    TEXT NOT NULL,
    PRIMARY KEY (site, extension)
) WITHOUT ROWID;
CREATE TABLE members (
    site      TEXT NOT NULL,
    type      TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    role      TEXT NOT NULL,  -- members | agents | supervisors
    position  INTEGER NOT NULL,
    user_id   TEXT NOT NULL,
    weight    INTEGER,
    PRIMARY KEY (site, type, group_id, role, user_id),
    FOREIGN KEY (site, type, group_id) REFERENCES groups (site, type, id) ON DELETE CASCADE,
    FOREIGN KEY (site, user_id) REFERENCES users (site, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX members_user ON members (site, user_id);
CREATE TABLE journal (
    seq        INTEGER PRIMARY KEY,  -- rows are never deleted, so this only grows
    at         TEXT NOT NULL,
    site       TEXT NOT NULL,
    action_id  TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    detail     TEXT NOT NULL
);
CREATE TABLE locks (
    site        TEXT PRIMARY KEY,
    token       TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    host        TEXT NOT NULL,
    proc_start  TEXT NOT NULL,  -- the holder's start time, so a reused pid is not mistaken
    started_at  TEXT NOT NULL,
    command     TEXT NOT NULL
);
"""

# The lock's lease: a holder renews `renewed_at` (time.time()) every third of
# `lease` seconds; a holder on another host whose lease lapsed is taken over.
_V2 = """
ALTER TABLE locks ADD COLUMN renewed_at REAL NOT NULL DEFAULT 0;
ALTER TABLE locks ADD COLUMN lease REAL NOT NULL DEFAULT 0
"""

# The site settings (the `site:` block, as `digest.plain(Site)` JSON) of the site file
# last applied: the platform does not hold them, and `onenet import` gives them back.
_V3 = """
ALTER TABLE sites ADD COLUMN applied_site TEXT
"""

# How many users of a site hold each licence (a package, or an option; a name held
# as both counts once), for the sites that own limited licences (`sites.licences`
# set): the licence check of a creation or change then reads one row instead of
# counting the site's users. The operations that give or take a user's package or
# options keep it (`SiteTx.count_licences`) in the transaction of the change, so a
# refusal undone undoes it too; `configure` and `seed` count afresh, and a site
# without limits keeps none. Triggers would keep it as well, but a trigger on users
# makes every creation write a statement journal to a temporary file.
# The parts below are released in _V4: a change to them is a new migration.
LICENCE_COUNT = """
SELECT site, name, COUNT(*) FROM (
    SELECT site, id, package AS name FROM users
    UNION
    SELECT users.site, users.id, json_each.value FROM users, json_each(users.options)
) WHERE site IN (SELECT id FROM sites WHERE licences IS NOT NULL) AND {where}
GROUP BY site, name
"""
LICENCE_RECOUNT = "INSERT INTO licence_use (site, name, used)" + LICENCE_COUNT
_V4 = f"""
CREATE TABLE licence_use (
    site  TEXT NOT NULL,
    name  TEXT NOT NULL,  -- a package or option of the catalogue
    used  INTEGER NOT NULL,
    PRIMARY KEY (site, name)
) WITHOUT ROWID;
{LICENCE_RECOUNT.format(where="true")}
"""

# What a deletion of a group looks up (docs/edge-cases.md #10): which hunt group
# forwards, and which deactivated user transfers, to the group's number. Indexed on
# these expressions, a lookup reads a few rows instead of decoding every hunt group's
# settings and every deactivation (deleting 2,000 groups decoded 1.6 million). A
# value SQLite cannot read as JSON indexes as NULL: a damaged record stays readable
# to the error that names it (records.py). Released in _V5: a change is a new migration.
FORWARD_TO = (
    "(CASE WHEN json_valid(settings) THEN json_extract(settings, '$.no_answer.forward_to') END)"
)
TRANSFER_TO = (
    "(CASE WHEN json_valid(deactivation) THEN json_extract(deactivation, '$.transfer_to') END)"
)
_V5 = f"""
CREATE INDEX groups_forward_to ON groups (site, {FORWARD_TO}) WHERE type = 'hunt_group';
CREATE INDEX users_transfer_to ON users (site, {TRANSFER_TO}) WHERE deactivation IS NOT NULL
"""

# Schema 4 was first written with triggers keeping the licence counts; a file made
# by that build still has them and would count every change twice: drop them, and
# count afresh.
_V6 = f"""
DROP TRIGGER IF EXISTS licence_use_insert;
DROP TRIGGER IF EXISTS licence_use_delete;
DROP TRIGGER IF EXISTS licence_use_update;
DELETE FROM licence_use;
{LICENCE_RECOUNT.format(where="true")}
"""

# Each entry moves the schema one version up; never edit a released one.
MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)


# How long a statement waits for another process's write transaction to end. The
# site lock's loop waits with its own, shorter bound (see lock.py).
BUSY_SECONDS = 30.0

SQLITE_MAGIC = b"SQLite format 3\0"  # the first 16 bytes of every SQLite database file


class StoreVersionError(Exception):
    """The file was written by a newer onenet."""


@contextmanager
def store_errors(path: str | Path) -> Iterator[None]:
    """Report SQLite's errors as one BackendError naming the file (see store_error).
    Integrity and programming errors pass through: they are bugs, not damage."""
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
        raise
    except sqlite3.DatabaseError as e:
        raise store_error(path, e) from None


def store_error(path: str | Path, error: sqlite3.Error) -> BackendError:
    """What an SQLite error means for the admin, naming the file and what to do."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return BackendError(
            f"the sandbox {path} is busy: another process has held a write transaction "
            f"on it for over {BUSY_SECONDS:.0f}s; try again when it has finished"
        )
    text = str(error)
    if name.startswith("SQLITE_NOTADB") and not is_sqlite_file(path):
        # a site file or some other file given as the backend: never advise removing it
        return BackendError(f"{path} is not a sandbox database: check --backend")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or text.startswith(
        ("no such table", "no such column", "malformed")
    ):
        return BackendError(
            f"the sandbox {path} is damaged ({text}): restore it from a backup, "
            "or remove it to start with an empty sandbox"
        )
    return BackendError(f"cannot use the sandbox {path}: {text}")


def is_sqlite_file(path: str | Path) -> bool:
    """Whether the file starts as every SQLite database does (or cannot be read: then
    it is not known to be something else)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return True


_clock: tuple[int, str] = (-1, "")


def now_iso() -> str:
    """UTC to the second, formatted once a second: every action is stamped."""
    global _clock
    second = int(time.time())
    if second != _clock[0]:
        _clock = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _clock[1]


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate a sandbox database."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_SECONDS, check_same_thread=False)
    try:
        if schema_version(db) == 0 and _other_tables(db):  # before any write, even a pragma
            raise StoreVersionError(
                "it is an SQLite database of another program, not a sandbox: check "
                "--backend (nothing was written to it)"
            )
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # takes effect only in a new, empty file
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def schema_version(db: sqlite3.Connection) -> int:
    """The file's schema version; 0 for a new or unversioned file."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return 0
    if not str(row[0]).isdigit():
        raise sqlite3.DatabaseError(f"malformed schema version {row[0]!r}")
    return int(row[0])


def migrate(db: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION. An up-to-date file is only read: opening it
    never waits for another process's write transaction."""
    if schema_version(db) == SCHEMA_VERSION:
        check_tables(db)
        return
    with transaction(db):
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        version = schema_version(db)  # again, now that no one else can migrate
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"this sandbox was written by a newer onenet (schema {version}); this one "
                f"knows schema {SCHEMA_VERSION}: upgrade onenet to use it"
            )
        for script in MIGRATIONS[version:]:
            for statement in statements(script):
                db.execute(statement)
        db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )


def statements(script: str) -> Iterator[str]:
    """The script's statements one by one, each whole: a trigger's body holds
    semicolons of its own (`sqlite3.complete_statement` knows where it ends). An
    unfinished tail is given as it is, for SQLite to refuse."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""
    if pending.strip():
        yield pending


def count_licences_afresh(db: sqlite3.Connection, site_id: str) -> None:
    """The site's licence counts from its users, after its limits were set or lifted
    or users were written in bulk (seed): none for a site without limits."""
    db.execute("DELETE FROM licence_use WHERE site = ?", (site_id,))
    db.execute(LICENCE_RECOUNT.format(where="site = ?"), (site_id,))


def _other_tables(db: sqlite3.Connection) -> bool:
    """Tables beside our own `meta`: a database some other program made."""
    return (
        db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name != 'meta' LIMIT 1"
        ).fetchone()
        is not None
    )


def check_tables(db: sqlite3.Connection) -> None:
    """A table the migrations made and no one may drop is missing: the file is damaged."""
    scripts = "".join(MIGRATIONS)
    expected = set(re.findall(r"CREATE TABLE (\w+)", scripts)) - set(
        re.findall(r"DROP TABLE (\w+)", scripts)
    )
    present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted(expected - present)
    if missing:
        raise sqlite3.DatabaseError(f"no such table: {', '.join(missing)}")


@contextmanager
def transaction(
    db: sqlite3.Connection, on_rollback: Callable[[], None] | None = None
) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception, then `on_rollback`.

    A failed COMMIT counts as a rollback too (SQLite may leave the transaction
    open after one: it is rolled back here), so `on_rollback` runs exactly when
    nothing was committed."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        if on_rollback is not None:
            on_rollback()
        raise
    try:
        db.execute("COMMIT")
    except sqlite3.Error:
        if db.in_transaction:
            db.execute("ROLLBACK")
        if on_rollback is not None:
            on_rollback()
        raise


@contextmanager
def savepoint(db: sqlite3.Connection, name: str) -> Iterator[None]:
    """The body's writes, taken back alone if it raises (inside a transaction)."""
    db.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        db.execute(f"ROLLBACK TO {name}")
        db.execute(f"RELEASE {name}")
        raise
    db.execute(f"RELEASE {name}")


def guard_public_methods(cls: type, but: tuple[str, ...] = ()) -> None:
    """Make each public method of `cls` (whose instances have a `path`) report SQLite's
    errors as one clear BackendError naming the file, as `store_errors` does."""
    for name, method in list(vars(cls).items()):
        if not name.startswith("_") and name not in but and inspect.isfunction(method):
            setattr(cls, name, _guarded(method))


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        with store_errors(self.path):
            return method(self, *args, **kwargs)

    return guarded


class MissingSandboxError(BackendError):
    """Reading a sandbox that does not exist would plan every site as new."""

    def __init__(self, path: Path) -> None:
        what = "is an empty file" if path.exists() else "does not exist"
        super().__init__(
            f"sandbox:{path} {what}, so no site is on it: check --backend "
            "(or $ONENET_BACKEND); onenet apply creates it"
        )


def holds_nothing(path: Path) -> bool:
    """No file, or an empty one (SQLite would take it for a new database; it is more
    likely a truncated sandbox or a wrong path) with no write-ahead log beside it."""
    try:
        if path.stat().st_size:
            return False
    except FileNotFoundError:
        return True
    wal = path.with_name(path.name + "-wal")
    return not (wal.exists() and wal.stat().st_size)
