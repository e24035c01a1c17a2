"""The site lock in PostgreSQL (store/lock.py), against a real server: held on a
session of its own and named (row and application_name); a waiting locker told who
holds it, then timed out naming the same holder; keys apart across schemas and
sites; a lost session found before the next batch; transaction pooling refused;
`onenet unlock` and `--state` through the CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest

from onenet_apply.backends.base import LockTimeout
from onenet_apply.store.actor import Actor
from onenet_apply.store.address import StateAddress
from onenet_apply.store.errors import LockLostError, StoreError
from onenet_apply.store.lock import StoreLocks
from onenet_apply.store.session import Store, open_store
from tests.conftest import EXAMPLE
from tests.pg_kit import PgAdmin, with_schema
from tests.pg_pooler_kit import TransactionPooler

SITE = "berlin-hq"
CI_RUN = "https://github.example/acme/sites/actions/runs/42"


def actor(pid: int = 4242, command: str = "onenet apply") -> Actor:
    return Actor("admin", "ci-runner-7", pid, command, CI_RUN)


@pytest.fixture
def stores(pg_url: str) -> Iterator[list[Store]]:
    """Stores opened by a test (two appliers are two stores), closed after it."""
    opened: list[Store] = []
    yield opened
    for store in opened:
        store.close()


def locks_of(
    stores: list[Store], url: str, who: Actor, heard: list[str] | None = None
) -> StoreLocks:
    store = open_store(StateAddress(url), who, SITE)
    stores.append(store)
    return store.locks(lambda site: f"test:{site}", heard.append if heard is not None else None)


def test_the_holder_is_named_by_its_row_and_its_session(
    pg_url: str, pg_admin: PgAdmin, stores: list[Store]
) -> None:
    locks = locks_of(stores, pg_url, actor())
    with locks.lock(SITE, 1, "onenet apply"):
        row = pg_admin.rows(
            f"SELECT site, platform, os_user, host, pid, command, ci_run, session_pid "
            f"FROM {schema_of(pg_url)}.onenet_site_locks"
        )
        assert row == [
            (SITE, f"test:{SITE}", "admin", "ci-runner-7", 4242, "onenet apply", CI_RUN,
             locks.session_pid),
        ]  # fmt: skip
        held = pg_admin.value(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s AND granted",
            [locks.session_pid],
        )
        assert held == 1
    assert pg_admin.rows(f"SELECT * FROM {schema_of(pg_url)}.onenet_site_locks") == []
    assert pg_admin.value("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0


def schema_of(url: str) -> str:
    return url.rpartition("search_path%3D")[2].split("&")[0]


def test_a_waiting_locker_hears_who_holds_it_and_times_out_naming_them(
    pg_url: str, stores: list[Store]
) -> None:
    holder = locks_of(stores, pg_url, actor(pid=1111))
    heard: list[str] = []
    waiter = locks_of(stores, pg_url, actor(pid=2222), heard)
    with holder.lock(SITE, 1, "onenet apply"):
        started = time.monotonic()
        with pytest.raises(LockTimeout) as timed_out, waiter.lock(SITE, 0.5, "onenet apply"):
            pass
        waited = time.monotonic() - started
        with pytest.raises(LockTimeout) as at_once, waiter.lock(SITE, 0, "onenet apply"):
            pass
    assert 0.4 <= waited < 3
    who = f"pid 1111 on ci-runner-7 (onenet apply, admin, CI run {CI_RUN}) since "
    assert heard == [f"Site {SITE} is locked by {heard[0].split('locked by ')[1]}"]
    assert who in heard[0] and heard[0].endswith("waiting up to 0.5s...")
    assert str(timed_out.value).startswith(f"site {SITE} is locked by {who}")
    assert str(at_once.value).startswith(f"site {SITE} is locked by {who}")
    with waiter.lock(SITE, 1, "onenet apply"):  # let go: the next one gets it
        pass


def test_a_lock_taken_outside_onenet_is_named_by_its_session(
    pg_url: str, pg_server: str, stores: list[Store]
) -> None:
    locks = locks_of(stores, pg_url, actor())
    key = locks.key(SITE)
    with psycopg.connect(pg_url, autocommit=True, application_name="a hand-run psql") as other:
        other.execute("SELECT pg_advisory_lock(%s)", (key,))
        with pytest.raises(LockTimeout, match=r"\(a hand-run psql\)"), locks.lock(SITE, 0):
            pass


def test_keys_keep_schemas_and_sites_apart(
    pg_server: str, pg_url: str, pg_admin: PgAdmin, stores: list[Store]
) -> None:
    from tests.pg_kit import fresh_schema

    with fresh_schema(pg_admin) as other_schema, ExitStack() as held:
        here = locks_of(stores, pg_url, actor())
        there = locks_of(stores, with_schema(pg_server, other_schema), actor())
        held.enter_context(here.lock(SITE, 0))
        held.enter_context(there.lock(SITE, 0))  # the same site in another schema
        held.enter_context(locks_of(stores, pg_url, actor()).lock("munich", 0))
        assert here.key(SITE) != there.key(SITE)


def test_a_terminated_session_is_a_lost_lock_found_before_the_next_batch(
    pg_url: str, pg_admin: PgAdmin, stores: list[Store]
) -> None:
    locks = locks_of(stores, pg_url, actor())
    with locks.lock(SITE, 1):
        locks.ensure_held(SITE)  # held: no error
        pg_admin.execute("SELECT pg_terminate_backend(%s)", [locks.session_pid])
        with pytest.raises(LockLostError) as lost:
            locks.ensure_held(SITE)
    message = str(lost.value)
    assert message.startswith(f"lost the lock of site {SITE}: ")
    assert "stopped before the next batch, so nothing ran without the lock" in message
    assert "\n" not in message
    other = locks_of(stores, pg_url, actor(pid=9))
    with other.lock(SITE, 0):  # the server let go of it with the session
        pass


def test_a_transaction_pooling_connection_is_refused_for_the_lock(
    pg_url: str, pg_admin: PgAdmin, stores: list[Store]
) -> None:
    with TransactionPooler(pg_url) as pooled_url:
        locks = locks_of(stores, pooled_url, actor())
        with pytest.raises(StoreError, match="transaction-pooling proxy"), locks.lock(SITE, 1):
            pass


def test_breaking_a_lock_ends_the_holders_session(
    pg_url: str, pg_admin: PgAdmin, stores: list[Store]
) -> None:
    holder = locks_of(stores, pg_url, actor(pid=1111))
    breaker = locks_of(stores, pg_url, actor(pid=2222, command="onenet unlock"))
    assert breaker.break_lock(SITE) is None  # nobody holds it
    with holder.lock(SITE, 1):
        broken = breaker.break_lock(SITE)
        assert broken is not None and broken.pid == 1111 and broken.host == "ci-runner-7"
        with pytest.raises(LockLostError):
            holder.ensure_held(SITE)
    with breaker.lock(SITE, 0):
        pass


# -- through the command line -------------------------------------------------------


def test_state_with_a_password_on_the_command_line_is_refused(onenet, workdir: Path) -> None:
    result = onenet(
        "apply", str(EXAMPLE), "--yes", "--state", "postgresql://u:S3cret-pw@127.0.0.1:1/x"
    )
    assert result.code == 1 and "S3cret-pw" not in result.out + result.err
    assert "holds a password" in result.err and "PGPASSWORD" in result.err


def test_an_apply_with_an_unreachable_store_applies_nothing(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONENET_STATE", "postgresql://onenet@127.0.0.1:1/x?connect_timeout=2")
    result = onenet("apply", str(EXAMPLE), "--yes")
    assert result.code == 1
    assert result.err.startswith(
        "Error: cannot reach the state store postgresql://onenet@127.0.0.1:1/x"
    )
    assert "Traceback" not in result.err and result.err.count("\n") == 1
    assert onenet("sandbox", "status", "--site", SITE).code == 1  # the site was never made
    reset = onenet("credentials", "reset", "--site", SITE, "--all", "--yes")
    assert reset.code == 1 and "cannot reach the state store" in reset.err


def test_onenet_unlock_breaks_the_stores_lock_and_records_it(
    pg_url: str, onenet, workdir: Path, stores: list[Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    from onenet_apply.backends import open_backend
    from onenet_apply.backends.base import platform_name

    monkeypatch.setenv("ONENET_STATE", pg_url)
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    nobody = onenet("unlock", "--site", SITE)
    assert nobody.code == 0 and nobody.out == f"site {SITE} is not locked; nothing to break\n"
    backend = open_backend(None)
    store = open_store(StateAddress(pg_url), actor(pid=1111))
    stores.append(store)
    holder = store.locks(lambda site: platform_name(backend, site))
    with holder.lock(SITE, 1, "onenet apply"):
        broke = onenet("unlock", "--site", SITE)
        assert broke.code == 0
        assert broke.out.startswith(
            f"Broke the lock on site {SITE} held by pid 1111 on ci-runner-7"
        )
        with pytest.raises(LockLostError):
            holder.ensure_held(SITE)
    backend.close()
    history = onenet("history", "--site", SITE, "--format", "json")
    import json

    runs = json.loads(history.out)["runs"]
    assert [r["kind"] for r in runs] == ["apply", "lock-break"]
    assert (
        runs[1]["outcome"] == "ok"
        and "broke the lock of pid 1111 on ci-runner-7" in runs[1]["message"]
    )


def test_onenet_unlock_without_a_store_breaks_the_sandboxs_own(onenet, workdir: Path) -> None:
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    result = onenet("unlock", "--site", SITE)
    assert result.code == 0 and result.out == f"site {SITE} is not locked; nothing to break\n"


def test_a_lock_whose_connection_now_answers_from_another_session_is_lost(
    pg_url: str, stores: list[Store]
) -> None:
    """What a pooler that moved the connection to another server session looks like
    at the next batch: the session answering is not the one holding the lock."""
    locks = locks_of(stores, pg_url, actor())
    with locks.lock(SITE, 1), psycopg.connect(pg_url, autocommit=True) as elsewhere:
        holding = locks.conn
        locks.conn = elsewhere
        try:
            with pytest.raises(LockLostError, match="transaction-pooling proxy"):
                locks.ensure_held(SITE)
        finally:
            locks.conn = holding


def test_the_servers_idle_and_statement_timeouts_do_not_end_the_lock(
    pg_url: str, stores: list[Store]
) -> None:
    """A DBA's idle_session_timeout would close the lock's session during a long
    batch, and a statement_timeout would cut the wait short: the lock's session
    turns both off for itself."""
    strict = pg_url.replace(
        "search_path%3D",
        "idle_session_timeout%3D300%20-cstatement_timeout%3D200%20-csearch_path%3D",
    )
    holder = locks_of(stores, pg_url, actor(pid=1))
    locks = locks_of(stores, strict, actor())
    with holder.lock(SITE, 1), pytest.raises(LockTimeout), locks.lock(SITE, 0.6):
        pass  # waited its 0.6 s, not cut at 0.2 s by statement_timeout
    with locks.lock(SITE, 1):
        time.sleep(0.6)  # longer than idle_session_timeout
        locks.ensure_held(SITE)
