"""A killed apply loses nothing: SIGKILL at random instants, then converge.

Each credential is written and fsynced to a CSV before the platform commits it,
so after a kill at any instant every credential the sandbox holds is in some CSV
(checked against the sandbox's stored hashes), and the next runs converge.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.sitegen import generate
from onenet_apply.applier import apply_site
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.credentials import CredentialsSink, read_rows
from onenet_apply.planner import PlanOptions, plan
from onenet_apply.spec import SiteSpec
from onenet_apply.validate import validate_file

USERS = 500
KILLS = 30


def kill_an_apply(workdir: Path, site: Path, rng: random.Random) -> None:
    """SIGKILL an apply at a random instant: mostly once a random number of users
    is committed (so the kill lands while users are being created, whatever the
    machine's speed), sometimes at a random time (startup, planning)."""
    env = {k: v for k, v in os.environ.items() if k != "ONENET_BACKEND"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "onenet_apply", "apply", str(site), "--yes"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 0.6))
    else:
        wait_for_users(proc, workdir / ".onenet" / "sandbox.db", rng.randrange(1, USERS))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def wait_for_users(proc: subprocess.Popen[bytes], database: Path, count: int) -> None:
    """Until `count` users are committed, or the apply ends (60 s at most)."""
    deadline = time.monotonic() + 60
    reader: sqlite3.Connection | None = None
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if reader is None and database.exists():
                reader = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
            if reader is not None and users_in(reader) >= count:
                break
        except sqlite3.Error:  # not created yet
            pass
        time.sleep(0.001)
    if reader is not None:
        reader.close()


def users_in(reader: sqlite3.Connection) -> int:
    return reader.execute("SELECT COUNT(*) FROM users").fetchone()[0]


def recover(workdir: Path, spec: SiteSpec) -> SandboxBackend:
    """The next runs: apply, the carrier activates everything, apply again."""
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    for _ in range(2):
        with CredentialsSink(spec.site.id, directory=workdir) as sink:
            report = apply_site(backend, spec, PlanOptions(), sink, lock_timeout=10)
        assert report.failed == []
        backend.activate(spec.site.id)
    return backend


def credentials_in_csvs(workdir: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for csv_file in workdir.glob("onenet-credentials-*.csv"):
        for row in read_rows(csv_file):
            if row.get("password"):
                found.setdefault(row["user_id"], []).append(row["password"])
    return found


def test_killed_applies_lose_no_credential_and_converge(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("".join(generate(USERS, USERS // 5)))
    spec = validate_file(str(site)).spec
    rng = random.Random(20261125)
    caught_mid_apply = 0
    for run in range(KILLS):
        workdir = tmp_path / f"run-{run}"
        workdir.mkdir()
        kill_an_apply(workdir, site, rng)
        database = workdir / ".onenet" / "sandbox.db"
        if database.exists():
            partial = SandboxBackend(database).read_state(spec.site.id).users
            caught_mid_apply += 0 < len(partial) < USERS
        backend = recover(workdir, spec)
        state = backend.read_state(spec.site.id)
        assert plan(spec, state).empty, f"run {run} did not converge"
        assert backend.check_consistency(spec.site.id) == []
        issued = credentials_in_csvs(workdir)
        phones = [u for u, c in state.users.items() if c.item.desk_phone != "none"]
        lost = [
            u
            for u in phones
            if not any(backend.verify_login(spec.site.id, u, p) for p in issued.get(u, ()))
        ]
        assert lost == [], f"run {run}: credentials of {lost[:5]} are in no CSV"
        backend.close()
    # the kills must really land while users are being created, or the test proves nothing
    assert caught_mid_apply >= KILLS // 3, caught_mid_apply
