"""Applies under failure: random transient faults, and several applies at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.sitegen import generate
from onenet_apply.apply.applier import apply_site
from onenet_apply.apply.credentials import CredentialsSink, read_rows
from onenet_apply.backends.base import RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.faults import Faults
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("mode", ["before", "lost-reply", "rollback"])
def test_random_faults_converge_without_breaking_a_rule(
    tmp_path: Path, seed: int, mode: str
) -> None:
    spec = validate_file(str(EXAMPLE)).spec
    rate = 0.05 if mode == "rollback" else 0.25  # a rollback undoes the whole batch
    faulty = SandboxBackend(tmp_path / "sandbox.db", faults=Faults(rate=rate, seed=seed, mode=mode))
    refusals = []
    original = faulty.execute_batch
    batches = 0

    def watched(site, actions, record=None):  # a refusal means the planner broke a rule
        nonlocal batches
        batches += 1
        outcome = original(site, actions, record)
        if isinstance(outcome.error, RefusedError):
            refusals.append(str(outcome.error))
        return outcome

    faulty.execute_batch = watched
    for _ in range(30):
        with CredentialsSink(spec.site.id, directory=tmp_path) as sink:
            report = apply_site(faulty, spec, PlanOptions(), sink, lock_timeout=5)
        assert all(action_id == "(backend)" for action_id, _ in report.failed), report.failed
        if faulty.read_state(spec.site.id).exists:  # every batch may have rolled back
            faulty.activate(spec.site.id)
        if plan(spec, faulty.read_state(spec.site.id), catalogue=faulty.catalogue()).empty:
            break
    assert batches > 0 and refusals == []
    assert plan(spec, faulty.read_state(spec.site.id), catalogue=faulty.catalogue()).empty
    assert faulty.check_consistency(spec.site.id) == []
    rows = [r for f in tmp_path.glob("onenet-credentials-*.csv") for r in read_rows(f)]
    state = faulty.read_state(spec.site.id)
    for uid, current in state.users.items():
        if current.item.desk_phone != "none":  # lost replies too: recorded before commit
            [row] = [r for r in rows if r["user_id"] == uid]  # rolled-back rows taken out
            assert faulty.verify_login(spec.site.id, uid, row["password"]), uid


def test_four_applies_at_once(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("".join(generate(200, 40)))
    env = {k: v for k, v in os.environ.items() if k != "ONENET_BACKEND"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "onenet_apply",
                "apply",
                str(site),
                "--yes",
                "--lock-timeout",
                "60",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for code, err in results:
        assert code in (0, 3), err  # each finished cleanly (nothing but waiting for the lock)
        assert "Traceback" not in err
    csvs = list(tmp_path.glob("onenet-credentials-*.csv"))
    rows = [r for f in csvs for r in read_rows(f)]
    issued = [r["user_id"] for r in rows]
    assert len(issued) == len(set(issued))  # every credential written exactly once
    backend = SandboxBackend(tmp_path / ".onenet" / "sandbox.db")
    spec = validate_file(str(site)).spec
    assert backend.check_consistency(spec.site.id) == []
    backend.activate(spec.site.id)
    with CredentialsSink(spec.site.id, directory=tmp_path) as sink:
        apply_site(backend, spec, PlanOptions(), sink)
    assert plan(spec, backend.read_state(spec.site.id), catalogue=backend.catalogue()).empty
