"""The site lock's lease: renewed while its holder lives, lapsing when it dies on
another host, broken by hand with `onenet sandbox unlock`; waiting for it is
bounded by --lock-timeout, even while another process holds a write transaction."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from onenet_apply.backends.base import LockTimeout
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.lock import LockLostError
from tests.conftest import EXAMPLE, ROOT, run_process
from tests.sandbox_kit import SITE, create_user

STARTED = "2026-01-01T00:00:00Z"


def start_worker(*args: str) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.sandbox_worker", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline().strip() == "locked"
    return worker


def stop(worker: subprocess.Popen[str]) -> None:
    worker.kill()
    worker.wait()


def lock_left_on_another_host(backend: SandboxBackend, renewed_ago: float, lease: float) -> float:
    """The row an apply killed in a CI container leaves behind: another host, no renewals.
    Returns the time of its last renewal."""
    renewed = time.time() - renewed_ago
    backend.db.execute(
        "INSERT INTO locks (site, token, pid, host, proc_start, started_at, command, renewed_at,"
        " lease) VALUES (?, 'ci', 4242, 'ci-runner-7', '1234', ?, 'onenet apply', ?, ?)",
        (SITE, STARTED, renewed, lease),
    )
    return renewed


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # an apply writes its credentials CSV here
    path = tmp_path / "sandbox.db"
    SandboxBackend(path).configure(SITE)
    return path


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    """The example site under the kit's site id, which the workers lock."""
    path = tmp_path / "site.yaml"
    path.write_text(EXAMPLE.read_text().replace("id: berlin-hq", f"id: {SITE}"))
    return path


def test_a_dead_holder_on_another_host_is_taken_over_after_its_lease(db: Path) -> None:
    backend = SandboxBackend(db)
    renewed = lock_left_on_another_host(backend, renewed_ago=0, lease=1.5)
    with pytest.raises(LockTimeout) as caught, backend.lock(SITE, timeout=0.2):
        pass
    message = str(caught.value)
    assert f"site {SITE} is locked by pid 4242 on ci-runner-7 (onenet apply) since {STARTED}" in (
        message
    )
    assert f"onenet sandbox unlock --site {SITE}` breaks it now" in message
    start = time.monotonic()
    with backend.lock(SITE, timeout=10):
        waited = time.monotonic() - start
        assert time.time() - renewed > 1.5  # not before the lease lapsed
        assert backend.lock_holder(SITE).pid == os.getpid()
    assert waited < 5  # the rest of the lease, not the whole timeout
    assert backend.lock_record(SITE) is None


def test_apply_takes_over_a_lapsed_lock_from_another_host(onenet, db: Path, site_file) -> None:
    lock_left_on_another_host(SandboxBackend(db), renewed_ago=3600, lease=60)
    result = onenet(
        "apply", str(site_file), "--yes", "--lock-timeout", "1", "--backend", f"sandbox:{db}"
    )
    assert result.code == 3, result.err
    assert SandboxBackend(db).lock_record(SITE) is None


def test_a_live_holders_lease_is_renewed(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Held for four of its leases, by a process this host sees as remote: never taken over."""
    holder = start_worker("lock", str(db), "6", "1.5")
    try:
        monkeypatch.setattr(socket, "gethostname", lambda: "another-host")
        backend = SandboxBackend(db)
        locked = pytest.raises(LockTimeout, match=f"locked by pid {holder.pid}")
        with locked, backend.lock(SITE, timeout=4.5):
            pass
        record = backend.lock_record(SITE)
        assert record.pid == holder.pid
        assert time.time() - record.renewed_at < 1.5
        assert holder.stdout.readline().strip() == "released"
    finally:
        stop(holder)


def test_a_holder_that_stops_renewing_loses_the_lock_and_its_next_change(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = start_worker("lock", str(db), "60", "0.6")
    try:
        holder.send_signal(signal.SIGSTOP)  # hung: no renewals
        monkeypatch.setattr(socket, "gethostname", lambda: "another-host")
        backend = SandboxBackend(db)
        with backend.lock(SITE, timeout=10):
            assert backend.lock_record(SITE).pid == os.getpid()
    finally:
        holder.send_signal(signal.SIGCONT)
        stop(holder)


def test_a_broken_lock_stops_its_holder_before_the_next_change(db: Path) -> None:
    backend = SandboxBackend(db)
    with backend.lock(SITE, timeout=1):
        create_user(backend, "anna", 1)
        assert SandboxBackend(db).break_lock(SITE).pid == os.getpid()
        with pytest.raises(LockLostError, match=f"the lock on site {SITE} was broken"):
            create_user(backend, "ben", 2)
    assert set(backend.read_state(SITE).users) == {"anna"}


def test_unlock_names_what_it_breaks(onenet, db: Path) -> None:
    lock_left_on_another_host(SandboxBackend(db), renewed_ago=30, lease=60)
    result = onenet("sandbox", "unlock", "--site", SITE, "--backend", f"sandbox:{db}")
    assert result.code == 0, result.err
    assert result.out == (
        f"Broke the lock on site {SITE} held by pid 4242 on ci-runner-7 (onenet apply) since "
        f"{STARTED}; it last renewed its 60s lease 30s ago.\n"
    )
    assert (
        result.err
        == "pid 4242 on ci-runner-7 may still be running: it stops before its next change to the site.\n"
    )
    backend = SandboxBackend(db)
    assert backend.lock_record(SITE) is None
    [entry] = backend.journal(SITE)
    assert (entry.action_id, entry.outcome, entry.detail) == (
        "lock/unlock",
        "ok",
        f"lock of pid 4242 on ci-runner-7 (onenet apply) since {STARTED} broken by hand",
    )
    again = onenet("sandbox", "unlock", "--site", SITE, "--backend", f"sandbox:{db}")
    assert again.code == 0
    assert again.out == f"site {SITE} is not locked; nothing to break\n"


def test_unlock_of_a_sandbox_that_does_not_exist(onenet, tmp_path: Path) -> None:
    result = onenet("sandbox", "unlock", "--site", SITE, "--backend", f"sandbox:{tmp_path}/no.db")
    assert result.code == 1
    assert "does not exist" in result.err
    assert not (tmp_path / "no.db").exists()


@pytest.mark.parametrize("mode", ["lock", "lock-and-write"])
def test_apply_waits_for_lock_timeout_then_names_the_holder(
    db: Path, site_file: Path, mode: str
) -> None:
    """In its own process, as in CI; `lock-and-write` also holds an SQLite write
    transaction all the while, which once meant `database is locked` after 30s."""
    holder = start_worker(mode, str(db), "60")
    try:
        start = time.monotonic()
        result = run_process(
            "apply", str(site_file), "--yes", "--lock-timeout", "1", "--backend", f"sandbox:{db}"
        )
        elapsed = time.monotonic() - start
        assert result.code == 1
        assert result.err == (
            f"Error: site {SITE} is locked by pid {holder.pid} on {socket.gethostname()} "
            f"(sandbox_worker lock) since {SandboxBackend(db).lock_record(SITE).started_at}; "
            "waited 1s\n"
        )
        assert elapsed < 8  # start-up, validation and the 1s wait; never the 30s busy timeout
    finally:
        stop(holder)


def test_apply_waits_no_longer_than_lock_timeout_for_a_busy_file(db: Path, site_file) -> None:
    """No one holds the site's lock, but another process keeps a write transaction open."""
    writer = start_worker("write", str(db), "60")
    try:
        start = time.monotonic()
        result = run_process(
            "apply", str(site_file), "--yes", "--lock-timeout", "1", "--backend", f"sandbox:{db}"
        )
        assert time.monotonic() - start < 8
        assert result.code == 1
        assert result.err == (
            f"Error: site {SITE} could not be locked; waited 1s: the sandbox {db} stayed busy, "
            "another process writing to it all the while\n"
        )
    finally:
        stop(writer)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("renewed_at", "abc", "renewed_at is 'abc', not a number of seconds"),
        ("lease", "sixty", "lease is 'sixty', not a number of seconds"),
        ("lease", 0, "lease is 0s, not between 0 and 3600s"),
        ("pid", "x", "pid is 'x', not a process id"),
    ],
)
def test_a_damaged_lock_row_is_reported_and_unlock_breaks_it(
    onenet, db: Path, site_file: Path, column: str, value: object, problem: str
) -> None:
    row = {"renewed_at": time.time(), "lease": 60, "pid": 4242, column: value}
    SandboxBackend(db).db.execute(
        "INSERT INTO locks (site, token, pid, host, proc_start, started_at, command, renewed_at,"
        " lease) VALUES (?, 'ci', ?, 'ci-runner-7', '1', ?, 'onenet apply', ?, ?)",
        (SITE, row["pid"], STARTED, row["renewed_at"], row["lease"]),
    )
    backend = f"sandbox:{db}"
    applied = onenet("apply", str(site_file), "--yes", "--lock-timeout", "1", "--backend", backend)
    assert applied.code == 1
    assert applied.err == (
        f"Error: the lock record of site {SITE} in {db} is damaged: {problem}; "
        f"`onenet sandbox unlock --site {SITE}` removes it\n"
    )
    status = onenet("sandbox", "status", "--site", SITE, "--backend", backend)
    assert (status.code, status.err) == (1, applied.err)
    broken = onenet("sandbox", "unlock", "--site", SITE, "--backend", backend)
    assert (broken.code, broken.err) == (0, "")
    assert broken.out == f"Broke the damaged lock on site {SITE} ({problem}).\n"
    assert SandboxBackend(db).lock_record(SITE) is None
    assert SandboxBackend(db).journal(SITE)[-1].detail == f"damaged lock ({problem}) broken by hand"


def test_a_lock_renewed_ahead_of_this_hosts_clock_lapses_one_lease_after_it_is_seen(
    onenet, db: Path, site_file: Path
) -> None:
    """A dead holder on a host whose clock ran two hours ahead: its renewal time is
    taken as the moment a locker first saw it, so the lock lapses, not in two hours."""
    lock_left_on_another_host(SandboxBackend(db), renewed_ago=-7200, lease=1.5)
    start = time.monotonic()
    result = onenet(
        "apply", str(site_file), "--yes", "--lock-timeout", "20", "--backend", f"sandbox:{db}"
    )
    assert result.code == 3, result.err
    assert 1.4 < time.monotonic() - start < 15
    assert SandboxBackend(db).lock_record(SITE) is None


def test_unlock_says_when_a_renewal_lies_ahead_of_this_hosts_clock(onenet, db: Path) -> None:
    lock_left_on_another_host(SandboxBackend(db), renewed_ago=-7200, lease=60)
    result = onenet("sandbox", "unlock", "--site", SITE, "--backend", f"sandbox:{db}")
    assert result.code == 0
    assert (
        "it last renewed its 60s lease 7200s ahead of this host's clock (the clocks disagree)"
        in (result.out)
    )
