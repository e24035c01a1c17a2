"""`onenet credentials reset`: new details or a chosen password, CSV only, skips explained."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from onenet_apply.apply.credentials import read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.spec import Site
from tests.conftest import EXAMPLE
from tests.disk_kit import fill_disk_after
from tests.sandbox_kit import SITE, create_user, user_in_state


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONENET_BACKEND", raising=False)
    backend = SandboxBackend(tmp_path / ".onenet" / "sandbox.db")
    user_in_state(backend, "anna", 1, "activated")
    user_in_state(backend, "ben", 2, "deactivated")
    create_user(backend, "carla", 3)  # pending
    user_in_state(backend, "dora", 4, "activated", desk_phone="none")
    user_in_state(backend, "emil", 5, "failed")
    backend.close()
    return tmp_path


def backend(workdir: Path) -> SandboxBackend:
    return SandboxBackend(workdir / ".onenet" / "sandbox.db")


def test_reset_all(onenet, workdir: Path) -> None:
    result = onenet(
        "credentials", "reset", "--site", SITE, "--all", "--yes", "--credentials-out", "r.csv"
    )
    assert result.code == 0
    rows = read_rows(workdir / "r.csv")
    assert [(r["user_id"], r["event"]) for r in rows] == [("anna", "reset"), ("ben", "reset")]
    for row in rows:
        assert backend(workdir).verify_login(SITE, row["user_id"], row["password"])
        assert row["password"] not in result.out + result.err
    assert "skipped carla: is pending" in result.err
    assert "skipped emil: its activation failed" in result.err
    assert "issued new login details to 2 users; written to r.csv" in result.out


def test_reset_named_users_and_skips(onenet, workdir: Path) -> None:
    result = onenet("credentials", "reset", "--site", SITE, "anna", "dora")
    assert result.code == 0
    assert "skipped dora: has no desk phone" in result.err
    [csv_file] = workdir.glob("onenet-credentials-*.csv")
    assert [r["user_id"] for r in read_rows(csv_file)] == ["anna"]


def _secret_hash(workdir: Path, uid: str) -> str:
    db = backend(workdir).db
    return db.execute("SELECT secret_hash FROM users WHERE id = ?", (uid,)).fetchone()[0]


@pytest.mark.parametrize("site_named_by", ["its site file", "its id, settings kept"])
def test_unmanaged_users_are_never_reset(onenet, workdir: Path, site_named_by: str) -> None:
    """domain.md #S4: site.unmanaged objects are never touched, by a reset either. The
    patterns are the site file's (--site FILE), else those of the file last applied."""
    sandbox = backend(workdir)
    user_in_state(sandbox, "svc-robot", 6, "activated")
    sandbox.close()
    robot = _secret_hash(workdir, "svc-robot")
    if site_named_by == "its site file":
        site = workdir / "site.yaml"
        site.write_text(f'version: 1\nsite:\n  id: {SITE}\n  unmanaged: ["svc-*"]\n')
        named = str(site)
    else:
        sandbox = backend(workdir)
        sandbox.keep_site(Site(SITE, "Berlin", "DE", unmanaged=("svc-*",)))
        sandbox.close()
        named = SITE
    everyone = onenet(
        "credentials", "reset", "--site", named, "--all", "--yes", "--credentials-out", "r.csv"
    )
    assert everyone.code == 0, everyone.err
    assert [r["user_id"] for r in read_rows(workdir / "r.csv")] == ["anna", "ben"]
    assert "svc-robot" not in everyone.out + everyone.err
    alone = onenet("credentials", "reset", "--site", named, "svc-robot")
    assert alone.code == 1
    assert alone.err.strip() == (
        "Error: no login details issued: svc-robot (is not managed by the site file "
        "(site.unmanaged))"
    )
    assert _secret_hash(workdir, "svc-robot") == robot
    assert list(workdir.glob("onenet-credentials-*.csv")) == []


@pytest.mark.parametrize("written", ["svc-*", "[1]", "{a: b}"])
def test_a_site_file_whose_unmanaged_cannot_be_read_resets_nobody(
    onenet, workdir: Path, written: str
) -> None:
    """Who must never be touched is never guessed: not as nobody, nor as the kept list."""
    sandbox = backend(workdir)
    user_in_state(sandbox, "svc-robot", 6, "activated")
    sandbox.keep_site(Site(SITE, "Berlin", "DE", unmanaged=("svc-*",)))
    sandbox.close()
    site = workdir / "site.yaml"
    site.write_text(f"version: 1\nsite:\n  id: {SITE}\n  unmanaged: {written}\n")
    result = onenet("credentials", "reset", "--site", str(site), "--all", "--yes")
    assert result.code == 1
    assert result.err == (
        f"Error: {site}:4:14: site.unmanaged is not a list of patterns (unmanaged: "
        '["svc-*"])\n'
    )
    assert list(workdir.glob("onenet-credentials-*.csv")) == []


def test_unknown_user_changes_nothing(onenet, workdir: Path) -> None:
    result = onenet("credentials", "reset", "--site", SITE, "anna", "zed")
    assert result.code == 1
    assert "no such user on site berlin: zed" in result.err
    assert not list(workdir.glob("onenet-credentials-*.csv"))


def test_set_password_from_stdin(onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Kx9.Vq7!Lm\n"))
    result = onenet(
        "credentials",
        "reset",
        "--site",
        SITE,
        "anna",
        "--password-stdin",
        "--credentials-out",
        "s.csv",
    )
    assert result.code == 0
    [row] = read_rows(workdir / "s.csv")
    assert (row["event"], row["password"]) == ("set", "Kx9.Vq7!Lm")
    assert backend(workdir).verify_login(SITE, "anna", "Kx9.Vq7!Lm")
    assert_not_shown("Kx9.Vq7!Lm", result.out + result.err)


def test_weak_password_is_refused_before_anything_changes(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Qz7x\n"))
    result = onenet("credentials", "reset", "--site", SITE, "--all", "--yes", "--password-stdin")
    assert result.code == 1
    assert result.err == (
        "Error: the password breaks the portal's rules: it must have at least 8 characters\n"
    )
    assert_not_shown("Qz7x", result.out + result.err)
    assert not list(workdir.glob("onenet-credentials-*.csv"))


def test_usage(onenet, workdir: Path) -> None:
    assert onenet("credentials", "reset", "--site", SITE).code == 1
    assert onenet("credentials", "reset", "--site", SITE, "anna", "--all", "--yes").code == 1


def assert_not_shown(password: str, output: str) -> None:
    """Neither the password nor any part of it (5 characters in a row from a visible
    stretch between control, format or undecodable characters) is in the output."""
    assert not password or password not in output
    for piece in re.split(r"[\x00-\x1f\x7f\u200b\ufffd]+", password):
        windows = {piece[i : i + 5] for i in range(max(1, len(piece) - 4))}
        shown = sorted(w for w in windows if len(w) >= 4 and w in output)
        assert shown == [], shown


def chosen_resets(workdir: Path) -> list[str]:
    return [e.action_id for e in backend(workdir).journal(SITE) if "set-password" in e.action_id]


@pytest.mark.parametrize(
    "stdin,why",
    [
        (b"\xff\xfeAbcdef12\n", "the password on standard input is not valid UTF-8"),
        (b"Abc\x00def12\n", "it must not contain control, format or unassigned characters"),
        (b"Abc\x1b[2Jdef12\n", "it must not contain control, format or unassigned characters"),
        ("Abc\u200bdef12\n".encode(), "it must not contain control, format or unassigned"),
        (b"Ab1!" * 262144 + b"\n", "the password on standard input is longer than 4096 bytes"),
        (b"Abcdefg1" * 20 + b"\n", "it must have at most 128 characters"),
        (b"\n", "no password on standard input"),
        (b"=Abcdef12\n", "cannot be written to the credentials CSV exactly: it starts with = +"),
        (b"+Abcdef12\n", "cannot be written to the credentials CSV exactly: it starts with = +"),
        (b"@Abcdef12\n", "cannot be written to the credentials CSV exactly: it starts with = +"),
        (b"-Abcdef12\n", "cannot be written to the credentials CSV exactly: it starts with = +"),
        (b"Abc;def12\n", 'it contains , ; or ", at which a spreadsheet may split the cell'),
        (b"Abc,def12\n", 'it contains , ; or ", at which a spreadsheet may split the cell'),
        (b'Abc"def12\n', 'it contains , ; or ", at which a spreadsheet may split the cell'),
        (b"12345E67\n", "it must start with a letter, or a spreadsheet may read it as a number"),
        (b"1/2/2024Ab\n", "it must start with a letter, or a spreadsheet may read it as a"),
        (b"!Abcdef12\n", "it must start with a letter, or a spreadsheet may read it as a"),
        ("Abcdef12\u00fc\n".encode(), "it holds characters beyond ASCII"),
        ("\uff21\uff22\uff23def12\n".encode(), "it must start with a letter"),
    ],
)
def test_a_chosen_password_that_cannot_work_exactly_is_refused(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch, stdin: bytes, why: str
) -> None:
    """One clear line, exit 1, nothing changed and no file: never a traceback, and never
    a password that the CSV or a spreadsheet would show differently."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    result = onenet("credentials", "reset", "--site", SITE, "anna", "--password-stdin")
    assert result.code == 1
    assert why in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert_not_shown(stdin.rstrip(b"\n").decode("utf-8", "replace"), result.out + result.err)
    assert chosen_resets(workdir) == []
    assert not list(workdir.glob("onenet-credentials-*.csv"))


def test_a_chosen_password_on_a_real_stdin_is_read_bounded(workdir: Path) -> None:
    """Through a real pipe: a megabyte of non-UTF-8 is one clear line, not a traceback."""
    env = {k: v for k, v in os.environ.items() if k != "ONENET_BACKEND"}
    command = [sys.executable, "-m", "onenet_apply", "credentials", "reset", "--site", SITE]
    for stdin, why in [
        (b"\xff" * 1_000_000, "longer than 4096 bytes"),
        (b"Abcd\xffef12\n", "not valid UTF-8"),
        (b"Sommer-2026!x\r\n", None),
    ]:
        proc = subprocess.run(
            [*command, "anna", "--password-stdin", "--credentials-out", "s.csv"],
            input=stdin,
            capture_output=True,
            cwd=workdir,
            env=env,
            timeout=60,
        )
        if why is None:
            assert proc.returncode == 0, proc.stderr
        else:
            assert proc.returncode == 1 and why in proc.stderr.decode()
            assert proc.stderr.count(b"\n") == 1
    assert [r["password"] for r in read_rows(workdir / "s.csv")] == ["Sommer-2026!x"]
    assert backend(workdir).verify_login(SITE, "anna", "Sommer-2026!x")


def test_a_chosen_password_is_written_exactly(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No guard character: the password is the cell, quote and equals sign included."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("Ab'=cdef12\n"))
    args = ("credentials", "reset", "--site", SITE, "anna", "--password-stdin")
    assert onenet(*args, "--credentials-out", "s.csv").code == 0
    [row] = read_rows(workdir / "s.csv")
    assert row["password"] == "Ab'=cdef12"
    assert backend(workdir).verify_login(SITE, "anna", "Ab'=cdef12")


def test_no_credentials_file_where_git_would_pick_it_up(onenet, workdir: Path) -> None:
    """The site repository is the usual working directory: `git add .` must never take
    the passwords. Refused before anything changes, naming the fix."""
    subprocess.run(["git", "init", "-q", str(workdir)], check=True)
    result = onenet("credentials", "reset", "--site", SITE, "--all", "--yes")
    assert result.code == 1 and result.err.count("\n") == 1
    assert f"inside the git work tree {workdir} and it is not ignored" in result.err
    assert "add onenet-credentials-*.csv to" in result.err
    assert "--credentials-out" in result.err
    assert not [e for e in backend(workdir).journal(SITE) if "reset-login" in e.action_id]
    apply = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv")
    assert apply.code == 1 and "add c.csv to" in apply.err
    assert not backend(workdir).read_state("berlin-hq").exists
    (workdir / ".gitignore").write_text("onenet-credentials-*.csv\n")
    assert onenet("credentials", "reset", "--site", SITE, "--all", "--yes").code == 0
    assert len(list(workdir.glob("onenet-credentials-*.csv"))) == 1


def test_an_apply_that_issues_no_login_details_needs_no_safe_place(onenet, workdir: Path) -> None:
    """Inside a work tree without the .gitignore entry, an apply whose users have no
    desk phone writes no CSV, so it is not refused; one that issues details is."""
    subprocess.run(["git", "init", "-q", str(workdir)], check=True)
    site = workdir / "site.yaml"
    site.write_text(
        "version: 1\nsite: {id: s, name: S, country: DE}\nusers:\n"
        "  anna: {first_name: Anna, last_name: A, number: '030 12345601',"
        " package: professional, desk_phone: none}\n"
    )
    assert onenet("apply", str(site), "--yes").code == 0  # anna created, no login details
    assert not list(workdir.glob("*.csv"))
    site.write_text(
        site.read_text() + "  ben: {first_name: Ben, last_name: B,"
        " number: '030 12345602', package: professional, desk_phone: yealink-t54w}\n"
    )
    refused = onenet("apply", str(site), "--yes")
    assert refused.code == 1 and "inside the git work tree" in refused.err
    assert "ben" not in backend(workdir).read_state("s").users


def test_a_full_disk_says_what_the_file_holds(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up after the first user's row: the second user keeps the old
    details, the file holds exactly the one that took effect, and the error says so."""
    header_and_row = 300
    fill_disk_after(monkeypatch, "r.csv", header_and_row)
    result = onenet(
        "credentials", "reset", "--site", SITE, "--all", "--yes", "--credentials-out", "r.csv"
    )
    monkeypatch.undo()
    assert result.code == 1 and result.err.count("\n") == 1
    assert (
        "cannot write r.csv: No space left on device; it holds 1 credential committed before, "
        "no more; users whose login details could not be written keep their old ones"
    ) in result.err
    [row] = read_rows(workdir / "r.csv")
    assert backend(workdir).verify_login(SITE, row["user_id"], row["password"])
    resets = [e.action_id for e in backend(workdir).journal(SITE) if "reset-login" in e.action_id]
    assert resets == [f"user/{row['user_id']}/reset-login"]


def test_a_full_disk_leaves_no_file_that_blocks_the_rerun(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_disk_after(monkeypatch, "c.csv", 0)
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv")
    monkeypatch.undo()
    monkeypatch.chdir(workdir)
    assert result.code == 1 and "Traceback" not in result.err
    assert (
        "cannot write c.csv: No space left on device; no credential was committed, and the "
        "file was removed; actions whose login details could not be written were not applied"
    ) in result.err
    assert not (workdir / "c.csv").exists()
    assert backend(workdir).read_state("berlin-hq").users == {}
    assert onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv").code == 3
    assert len(read_rows(workdir / "c.csv")) == 11  # every desk phone of the example


def test_a_rolled_back_batch_leaves_no_row(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The platform records a batch's credentials, then fails to commit it: their rows
    are taken out again, so every row in the file is a password that works."""
    monkeypatch.setenv("ONENET_SANDBOX_FAULTS", "nth=6,mode=rollback")
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv")
    assert result.code == 3, result.err
    rows = read_rows(workdir / "c.csv")
    state = backend(workdir).read_state("berlin-hq")
    phones = sorted(u for u, c in state.users.items() if c.item.desk_phone != "none")
    assert sorted(r["user_id"] for r in rows) == phones  # one row each, none rolled back
    for row in rows:
        assert backend(workdir).verify_login("berlin-hq", row["user_id"], row["password"])


def test_a_username_that_would_start_a_formula_is_never_written(onenet, workdir: Path) -> None:
    """The username is the one free-text cell besides the password: a leading `=` is
    refused at validation, with its place, before anything is applied (the CSV sink
    refuses it too, see test_credentials.py, should one reach it by another path)."""
    site = workdir / "site.yaml"
    site.write_text(EXAMPLE.read_text().replace("username: ben.mueller", 'username: "=cmd|calc"'))
    result = onenet("apply", str(site), "--yes", "--credentials-out", "c.csv")
    assert result.code == 1
    assert (
        'site.yaml:30:15: users.ben.username: must not contain + - & @ , ; " or white space, '
        "nor start with = (got '=cmd|calc')"
    ) in result.err
    assert not backend(workdir).read_state("berlin-hq").exists
    assert not (workdir / "c.csv").exists()


def test_an_unwritable_place_is_refused_before_anything_changes(onenet, workdir: Path) -> None:
    """/sys refuses new files even to root, like a read-only mount."""
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "/sys/c.csv")
    assert result.code == 1 and result.err.count("\n") == 1
    assert "cannot create /sys/c.csv: /sys is not writable (Permission denied)" in result.err
    assert not backend(workdir).read_state("berlin-hq").exists
    reset = onenet(
        "credentials", "reset", "--site", SITE, "--all", "--yes", "--credentials-out", "/sys/c"
    )
    assert reset.code == 1 and "/sys is not writable" in reset.err
    assert not [e for e in backend(workdir).journal(SITE) if "reset-login" in e.action_id]


def test_a_closed_stdin_is_a_usage_error(workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ONENET_BACKEND"}
    command = ["credentials", "reset", "--site", SITE, "anna", "--password-stdin"]
    proc = subprocess.run(
        [sys.executable, "-m", "onenet_apply", *command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=workdir,
        env=env,
        timeout=60,
        preexec_fn=lambda: os.close(0),
    )
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    assert b"reads the password from standard input" in proc.stderr


def test_a_symlink_to_nothing_is_refused_before_anything_changes(onenet, workdir: Path) -> None:
    """Writing would create the link's target, somewhere the user did not name."""
    (workdir / "c.csv").symlink_to(workdir / "elsewhere.csv")
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv")
    assert result.code == 1 and result.err.count("\n") == 1, result.err
    assert "c.csv exists; credentials files are never overwritten" in result.err
    assert "onenet plan" not in result.out  # refused before the plan is shown
    assert not backend(workdir).read_state("berlin-hq").exists
    assert not (workdir / "elsewhere.csv").exists()


def test_a_refused_credentials_file_leaves_a_new_directory_as_it_was(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused before the backend opens: no sandbox is created for a run that never runs."""
    empty = tmp_path / "new"
    empty.mkdir()
    monkeypatch.chdir(empty)
    monkeypatch.delenv("ONENET_BACKEND", raising=False)
    (empty / "existing.txt").write_text("hi\n")
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "existing.txt")
    assert result.code == 1
    assert "existing.txt exists; credentials files are never overwritten" in result.err
    assert sorted(p.name for p in empty.iterdir()) == ["existing.txt"]


def test_why_nothing_was_issued_is_one_short_line_whatever_the_site(
    onenet, workdir: Path
) -> None:
    """Each reason once, five users named and the rest counted: `--all` on a site of
    thousands of pending users is one readable line, not one of every user."""
    sandbox = backend(workdir)
    pending = [f"p{n}" for n in range(8)]
    for n, uid in enumerate(pending, 10):
        create_user(sandbox, uid, n)
    sandbox.close()
    result = onenet("credentials", "reset", "--site", SITE, *pending, "emil")
    assert result.code == 1
    assert result.err == (
        "Error: no login details issued: p0, p1, p2, p3, p4 and 3 more (is pending: login "
        "details can be renewed once it is activated); emil (its activation failed: "
        "contact the One Net Business team)\n"
    )
