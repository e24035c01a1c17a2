"""What the PostgreSQL tests share: the server, a fresh schema per test, a role
that must give its password, SQL as the superuser, and clusters of a test's own.

The server is `$ONENET_TEST_POSTGRES` (a superuser's libpq URL on a database
tests may create schemas in; CI's `.ci/run` starts a throwaway cluster and sets
it). Without it, outside CI, the session starts a throwaway cluster itself when
the PostgreSQL server binaries are installed (tools/throwaway_postgres.py), so
the README's plain test command runs these tests; else they skip, naming the
variable. In CI a missing server fails them.

Each test gets a schema of its own (`pg_url`, `pg_team_url`): the store keeps
its tables in the connection's `search_path`, which the URL sets through
`options=-csearch_path=...`, and the schema is dropped after the test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tools import throwaway_postgres as throwaway

ENV = "ONENET_TEST_POSTGRES"
HOW = (
    f"set ${ENV} to a superuser's URL or install the PostgreSQL server (README: 'PostgreSQL tests')"
)


def unavailable(why: str) -> NoReturn:
    """Skip (fail in CI, where a skip would hide a missing server) saying why."""
    if os.environ.get("CI"):
        pytest.fail(f"{why}; in CI, .ci/run starts a throwaway cluster and sets ${ENV}")
    pytest.skip(f"{why}; {HOW}")


def with_schema(url: str, schema: str, user: str | None = None) -> str:
    """`url` with `search_path` set to `schema` (and, given `user`, that user with
    no password instead of the URL's)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    options = query.get("options", "")
    query["options"] = f"{options} -csearch_path={schema}".strip()
    netloc = parts.netloc
    if user is not None:
        netloc = f"{quote(user)}@{netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, quote_via=quote)))


@dataclass(frozen=True)
class PgAdmin:
    """SQL as the superuser, on a connection of its own per call (autocommit), so
    a test may terminate backends or restart nothing it relies on."""

    url: str

    def execute(self, statement: str | sql.Composable, params: Any = None) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(statement, params)

    def rows(self, statement: str | sql.Composable, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(statement, params).fetchall()

    def value(self, statement: str | sql.Composable, params: Any = None) -> Any:
        """The first column of the only row."""
        (row,) = self.rows(statement, params)
        return row[0]


@dataclass(frozen=True)
class TeamRole:
    """A role that may create a schema and must give its password to log in."""

    name: str
    password: str = field(repr=False)


@contextmanager
def cluster_directory() -> Iterator[Path]:
    """A temporary directory for a throwaway cluster (under the system's temporary
    folder, which the postgres user can reach when we are root); its server is
    stopped and the directory removed afterwards."""
    if not throwaway.available():
        unavailable("no PostgreSQL server binaries to start a throwaway cluster")
    directory = Path(tempfile.mkdtemp(prefix="onenet-pg-"))
    try:
        yield directory
    finally:
        throwaway.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def session_server() -> Iterator[str]:
    """The superuser's URL of the tests' server: $ONENET_TEST_POSTGRES, else (not
    in CI) a throwaway cluster started here."""
    named = os.environ.get(ENV)
    if named:
        try:
            psycopg.connect(named, connect_timeout=10).close()
        except psycopg.OperationalError as e:
            pytest.fail(f"${ENV} names a server that does not answer: {e}".strip())
        yield named
        return
    if os.environ.get("CI"):
        unavailable(f"CI runs the PostgreSQL tests against ${ENV}, which is not set")
    with cluster_directory() as directory:
        try:
            server = throwaway.start(directory)
        except throwaway.ThrowawayError as e:
            unavailable(f"no throwaway cluster: {e}")
        yield server.url


@contextmanager
def fresh_schema(admin: PgAdmin, owner: str | None = None) -> Iterator[str]:
    """A new schema's name (owned by `owner`, else the superuser), dropped with
    everything in it afterwards."""
    name = f"test_{secrets.token_hex(6)}"
    create = sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name))
    if owner is not None:
        create += sql.SQL(" AUTHORIZATION {}").format(sql.Identifier(owner))
    admin.execute(create)
    try:
        yield name
    finally:
        with psycopg.connect(admin.url, autocommit=True) as connection:
            connection.execute("SET lock_timeout = '10s'")
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The superuser's URL of the server every PostgreSQL test shares."""
    with session_server() as url:
        yield url


@pytest.fixture(scope="session")
def pg_admin(pg_server: str) -> PgAdmin:
    """SQL as the superuser: `pg_admin.execute(sql, params)`, `.rows(...)`, `.value(...)`."""
    return PgAdmin(pg_server)


@pytest.fixture(scope="session")
def pg_team(pg_admin: PgAdmin) -> Iterator[TeamRole]:
    """A LOGIN role of this session (no superuser, owner of nothing but its
    schemas, CREATE on the database) with a password of its own, dropped at the end."""
    role = TeamRole(f"onenet_team_{secrets.token_hex(4)}", secrets.token_urlsafe(24))
    name = sql.Identifier(role.name)
    verifier = sql.Literal(throwaway.scram_verifier(role.password))
    database = sql.Identifier(pg_admin.value("SELECT current_database()"))
    pg_admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(name, verifier))
    pg_admin.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(database, name))
    yield role
    pg_admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role.name]
    )
    pg_admin.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(name))
    pg_admin.execute(sql.SQL("DROP ROLE {}").format(name))


@pytest.fixture
def pg_url(pg_server: str, pg_admin: PgAdmin) -> Iterator[str]:
    """The superuser's URL on a schema of this test's own (its `search_path`)."""
    with fresh_schema(pg_admin) as schema:
        yield with_schema(pg_server, schema)


@pytest.fixture
def pg_team_url(pg_server: str, pg_admin: PgAdmin, pg_team: TeamRole) -> Iterator[str]:
    """The team role's URL, without a password (give `pg_team_password` as
    PGPASSWORD), on a schema of this test's own that the role owns."""
    with fresh_schema(pg_admin, owner=pg_team.name) as schema:
        yield with_schema(pg_server, schema, user=pg_team.name)


@pytest.fixture
def pg_team_password(pg_team: TeamRole) -> str:
    """The password `pg_team_url`'s role must give."""
    return pg_team.password


class PrivateServer:
    """A throwaway cluster of one test, for tests that stop or restart the database:
    `url` (the superuser's), `team_url` and `team_password` (role onenet_team, which
    must give it), `start()`, `stop()`, `restart()`; the URLs hold across restarts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.server = throwaway.start(directory)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def team_url(self) -> str:
        return self.server.team_url

    @property
    def team_password(self) -> str:
        return self.server.team_password

    def start(self) -> None:
        self.server = throwaway.start(self.directory)

    def stop(self) -> None:
        throwaway.stop(self.directory)

    def restart(self) -> None:
        self.server = throwaway.restart(self.directory)


@pytest.fixture
def private_pg() -> Iterator[PrivateServer]:
    """A throwaway cluster started for this test and removed after it."""
    with cluster_directory() as directory:
        yield PrivateServer(directory)
