"""A killed apply loses nothing: SIGKILL at random instants, then converge.

Each credential is written and fsynced to a CSV before the platform commits it,
so after a kill at any instant every credential the sandbox holds is in some CSV
(checked against the sandbox's stored hashes), and the next runs converge.
"""

from __future__ import annotations

import random
from pathlib import Path

from benchmarks.sitegen import generate
from onenet_apply.apply.applier import apply_site
from onenet_apply.apply.credentials import CredentialsSink, read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.sitefile.validate import validate_file
from tests.kill_kit import kill_onenet

BATCH = SandboxBackend.batch_size  # the sandbox's ready actions per batch
USERS = 2 * BATCH  # three batches of users and groups: kills land between commits
KILLS = 30


def kill_an_apply(workdir: Path, site: Path, rng: random.Random) -> None:
    """SIGKILL an apply at a random instant, mostly while users are being created."""
    kill_onenet(workdir, ["apply", str(site), "--yes"], rng, "SELECT COUNT(*) FROM users", USERS)


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
        assert plan(spec, state, catalogue=default_catalogue()).empty, f"run {run} did not converge"
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
