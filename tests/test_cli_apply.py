"""`onenet apply` end to end through the real entry point (the README walkthrough)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from onenet_apply.apply.credentials import read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.cli.apply import ApplyProgress
from onenet_apply.model.plan import Kind
from tests.conftest import EXAMPLE, FIXTURES, ROOT, example_without_lena
from tests.sandbox_kit import act

SITE = "berlin-hq"


def sandbox(workdir: Path) -> SandboxBackend:
    return SandboxBackend(workdir / ".onenet" / "sandbox.db")


def test_readme_walkthrough(onenet, workdir: Path) -> None:
    first = onenet("apply", str(EXAMPLE), "--yes")
    assert first.code == 3  # users pending, memberships deferred
    assert "Apply: 19 applied, 4 deferred, 0 blocked, 0 gated, 0 failed." in first.out
    [csv_file] = workdir.glob("onenet-credentials-berlin-hq-*.csv")
    rows = read_rows(csv_file)
    assert len(rows) == 11 and {r["event"] for r in rows} == {"created"}
    backend = sandbox(workdir)
    for row in rows:  # every issued password is the one the platform holds
        assert backend.verify_login(SITE, row["user_id"], row["password"])
    assert onenet("sandbox", "activate", "--site", SITE, "--all").code == 0
    second = onenet("apply", str(EXAMPLE), "--yes")
    assert second.code == 0
    assert "Apply: 4 applied, 0 deferred" in second.out
    assert len(list(workdir.glob("onenet-credentials-*.csv"))) == 1  # nothing new issued
    converged = onenet("plan", str(EXAMPLE), "--detailed-exitcode")
    assert converged.code == 0
    assert backend.check_consistency(SITE) == []


def test_passwords_appear_only_in_the_csv(onenet, workdir: Path) -> None:
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv")
    passwords = [r["password"].lstrip("'") for r in read_rows(workdir / "c.csv")]
    assert len(passwords) == 11  # every desk phone of the example
    for password in passwords:
        assert password not in result.out and password not in result.err
        journal = repr(sandbox(workdir).journal(SITE))
        assert password not in journal


def test_refuses_without_a_terminal_unless_yes(onenet, workdir: Path) -> None:
    result = onenet("apply", str(EXAMPLE))
    assert result.code == 1
    assert "without one, add --yes" in result.err
    assert not sandbox(workdir).read_state(SITE).exists  # nothing changed


def test_gated_delete_changes_nothing_without_allow_delete(
    onenet, workdir: Path, tmp_path: Path
) -> None:
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    onenet("sandbox", "activate", "--site", SITE, "--all")
    assert onenet("apply", str(EXAMPLE), "--yes").code == 0
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(example_without_lena())
    before = sandbox(workdir).read_state(SITE)
    gated = onenet("apply", str(smaller), "--yes")
    assert gated.code == 1
    assert "gated action" in gated.err and "--allow-delete" in gated.err
    assert sandbox(workdir).read_state(SITE) == before
    allowed = onenet("apply", str(smaller), "--yes", "--allow-delete")
    assert allowed.code == 0
    assert "lena" not in sandbox(workdir).read_state(SITE).users


def test_saved_plan_applies_and_a_stale_one_is_refused(onenet, workdir: Path) -> None:
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0
    applied = onenet("apply", "plan.json", "--yes")
    assert applied.code == 3
    assert len(sandbox(workdir).read_state(SITE).users) == 12
    # the site has moved on since plan.json: applying it again is refused
    stale = onenet("apply", "plan.json", "--yes")
    assert stale.code == 1
    assert "stale plan: site berlin-hq changed since the plan was made: " in stale.err
    assert "user/anna now exists" in stale.err  # what changed, in words


def test_credentials_out_is_never_overwritten(onenet, workdir: Path) -> None:
    (workdir / "c.csv").write_text("old\n")
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv")
    assert result.code == 1
    assert "never overwritten" in result.err
    assert (workdir / "c.csv").read_text() == "old\n"
    assert not sandbox(workdir).read_state(SITE).exists


def test_credentials_out_in_a_missing_directory_fails_before_anything(
    onenet, workdir: Path
) -> None:
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "no/such/dir/c.csv")
    assert result.code == 1
    assert "cannot create no/such/dir/c.csv: no/such/dir is not a directory" in result.err
    assert "Traceback" not in result.err
    assert not sandbox(workdir).read_state(SITE).exists


def test_a_failing_credentials_disk_commits_nothing_it_could_not_record(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full while the login details are written: a clear error, exit 1, and the
    platform holds no credential that is not in the CSV (here: nothing at all)."""
    import errno

    from onenet_apply.apply import credentials

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(credentials, "_sync", full_disk)
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv")
    assert result.code == 1
    assert "cannot write c.csv: No space left on device" in result.err
    assert "were not applied" in result.err and "Traceback" not in result.err
    assert sandbox(workdir).read_state(SITE).users == {}
    monkeypatch.undo()
    monkeypatch.chdir(workdir)
    assert onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "d.csv").code == 3


def test_invalid_site_changes_nothing(onenet, workdir: Path) -> None:
    result = onenet("apply", str(FIXTURES / "invalid" / "status-typo.yaml"), "--yes")
    assert result.code == 1
    assert "users.anna.status" in result.err
    assert sandbox(workdir).sites() == []  # the workdir holds an empty sandbox


def test_a_held_lock_fails_naming_the_holder(onenet, workdir: Path) -> None:
    db = workdir / ".onenet" / "sandbox.db"
    sandbox(workdir).configure(SITE)
    holder = subprocess.Popen(
        [sys.executable, "-m", "tests.sandbox_worker", "lock", str(db), "30"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        # the worker locks the kit's site; use a site file for that site
        site = workdir / "site.yaml"
        site.write_text(EXAMPLE.read_text().replace("id: berlin-hq", "id: berlin"))
        result = onenet("apply", str(site), "--yes", "--lock-timeout", "0.3")
        assert result.code == 1
        assert f"site berlin is locked by pid {holder.pid}" in result.err
    finally:
        holder.kill()
        holder.wait()


def test_wait_activation_keeps_applying_as_activations_arrive(onenet, workdir: Path) -> None:
    sandbox(workdir).configure(SITE, activation="after:1")
    result = onenet("apply", str(EXAMPLE), "--yes", "--wait-activation", "20")
    assert result.code == 0, result.err
    assert "Apply: 23 applied, 0 deferred" in result.out


def test_a_plan_of_an_older_format_is_refused_with_the_way_out(onenet, workdir: Path) -> None:
    (workdir / "old.json").write_text(json.dumps({"format_version": 1, "actions": []}))
    result = onenet("apply", "old.json", "--yes")
    assert result.code == 1
    assert "old.json: unsupported plan format_version 1 (this onenet reads 2); " in result.err
    assert "make it again with onenet plan --out" in result.err


def test_stale_plan_names_the_changed_fields(onenet, workdir: Path) -> None:
    from onenet_apply.model.plan import Kind
    from tests.sandbox_kit import act

    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    renamed = workdir / "renamed.yaml"
    renamed.write_text(EXAMPLE.read_text().replace("first_name: Anna", "first_name: Annabel"))
    assert onenet("plan", str(renamed), "--out", "plan.json").code == 0
    sandbox(workdir).execute(SITE, act(Kind.UPDATE_PROFILE, "user", "anna", first_name="Ann"))
    stale = onenet("apply", "plan.json", "--yes")
    assert stale.code == 1
    assert 'user/anna first_name is now "Ann", the plan expected "Anna"' in stale.err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("answer,code", [("y\n", 3), ("n\n", 1)])
def test_asks_for_confirmation_on_a_terminal(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch, answer: str, code: int
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    result = onenet("apply", str(EXAMPLE))
    assert result.code == code
    assert "Apply 19 actions? [y/N]" in result.err
    created = sandbox(workdir).read_state(SITE).users
    assert len(created) == (12 if answer == "y\n" else 0)
    if answer == "n\n":
        assert "nothing applied" in result.err


def test_progress_names_each_action_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    progress = ApplyProgress(interactive=True)
    progress(1, 2, act(Kind.CREATE, "user", "anna"))
    progress(2, 2, act(Kind.CREATE, "user", "ben"))
    assert capsys.readouterr().err == "[1/2] user/anna/create\n[2/2] user/ben/create\n"


def test_progress_in_a_log_is_a_count_now_and_then(capsys: pytest.CaptureFixture[str]) -> None:
    """In CI a line per action would bury the log; a count every few seconds shows life."""
    quiet = ApplyProgress(interactive=False)  # the first count comes after ten seconds
    for index in range(1, 4):
        quiet(index, 400, act(Kind.CREATE, "user", f"u{index}"))
    assert capsys.readouterr().err == ""
    eager = ApplyProgress(interactive=False, every=0.0)
    eager(100, 400, act(Kind.CREATE, "user", "u100"))
    eager(400, 400, act(Kind.CREATE, "user", "u400"))  # the summary says the rest
    assert capsys.readouterr().err == "Applied 100 of 400 actions (25%)...\n"


def test_the_plan_an_apply_shows_is_coloured_on_a_terminal_only(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off a terminal the plan is written plain (what click would strip colours to);
    on one it keeps them."""
    plain = onenet("apply", str(EXAMPLE), "--yes")
    assert "\x1b[" not in plain.out and "+ user/anna create" in plain.out
    onenet("sandbox", "activate", "--site", SITE, "--all")
    monkeypatch.setattr("click.utils.should_strip_ansi", lambda stream=None, color=None: False)
    coloured = onenet("apply", str(EXAMPLE), "--yes").out
    assert "\x1b[" in coloured and "user/" in coloured
