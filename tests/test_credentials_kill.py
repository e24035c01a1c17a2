"""A killed `credentials reset --all` loses no password: SIGKILL at random instants.

Each new password is written and fsynced to a CSV before the platform commits it,
so after a kill at any instant every password the sandbox holds (it keeps salted
hashes) verifies against some CSV row, and the next run works.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from benchmarks.sitegen import generate
from onenet_apply.apply.credentials import CredentialsSink, read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import run_process
from tests.kill_kit import kill_onenet

USERS = 300
KILLS = 12
SITE = "bench"
RESETS_AFTER = "SELECT COUNT(*) FROM journal WHERE seq > {} AND action_id LIKE '%/reset-login'"


def seeded_site(directory: Path) -> list[str]:
    """A settled site whose every desk phone password is in a CSV; its phone users."""
    site = directory / "site.yaml"
    site.write_text("".join(generate(USERS, USERS // 5, SITE)))
    backend = SandboxBackend(directory / ".onenet" / "sandbox.db")
    backend.seed(validate_file(str(site)).spec)
    state = backend.read_state(SITE)
    phones = sorted(u for u, c in state.users.items() if c.item.desk_phone != "none")
    with CredentialsSink(SITE, directory=directory) as sink:
        for uid in phones:
            backend.reset_login(SITE, uid, sink)
    backend.close()
    return phones


def lost_passwords(workdir: Path, phones: list[str], csvs: list[Path]) -> list[str]:
    """The phone users whose current password is in none of `csvs`."""
    rows: dict[str, list[str]] = {}
    for csv_file in csvs:
        for row in read_rows(csv_file):
            rows.setdefault(row["user_id"], []).append(row["password"])
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    try:
        return [
            u for u in phones if not any(backend.verify_login(SITE, u, p) for p in rows.get(u, ()))
        ]
    finally:
        backend.close()


def journal_end(workdir: Path) -> int:
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    try:
        return backend.journal(SITE, limit=1)[-1].seq
    finally:
        backend.close()


def resets_since(workdir: Path, seq: int) -> int:
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    try:
        return sum("reset-login" in e.action_id for e in backend.journal(SITE) if e.seq > seq)
    finally:
        backend.close()


def test_killed_resets_lose_no_password_and_the_next_run_works(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    phones = seeded_site(template)
    rng = random.Random(20261126)
    caught_mid_reset = 0
    for run in range(KILLS):
        workdir = tmp_path / f"run-{run}"
        shutil.copytree(template, workdir)
        seq = journal_end(workdir)
        command = ["credentials", "reset", "--site", SITE, "--all", "--yes"]
        kill_onenet(workdir, command, rng, RESETS_AFTER.format(seq), len(phones))
        caught_mid_reset += 0 < resets_since(workdir, seq) < len(phones)
        csvs = list(workdir.glob("onenet-credentials-*.csv"))
        lost = lost_passwords(workdir, phones, csvs)
        assert lost == [], f"run {run}: the passwords of {lost[:5]} are in no CSV"
        rerun = run_process("credentials", "reset", "--site", SITE, "--all", "--yes", cwd=workdir)
        assert rerun.code == 0, f"run {run}: {rerun.err}"
        [newest] = set(workdir.glob("onenet-credentials-*.csv")) - set(csvs)
        assert lost_passwords(workdir, phones, [newest]) == [], f"run {run}"
    # the kills must really land while passwords are being reset, or the test proves nothing
    assert caught_mid_reset >= KILLS // 3, caught_mid_reset
