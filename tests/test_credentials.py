"""The credentials CSV sink: columns, permissions, never overwriting, exact cells that
no spreadsheet runs, no file where git would pick it up, failed writes undone."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from pathlib import Path

import pytest

from onenet_apply.apply.credentials import (
    COLUMNS,
    CredentialsFileError,
    CredentialsSink,
    password_cell_problems,
    read_rows,
)
from onenet_apply.backends.base import Credential
from onenet_apply.model.passwords import generate_password
from tests.disk_kit import fill_disk_after


def credential(user: str = "anna", password: str = "Xy7!secret-pass", **over: str) -> Credential:
    values = dict(
        site="berlin",
        user_id=user,
        username=f"{user}.s",
        number="+493012345601",
        extension="5601",
        device_type="yealink-t54w",
        login_username=f"{user}.s.5601",
        password=password,
        issued_at="2026-11-25T20:00:00Z",
        event="created",
    )
    values.update(over)
    return Credential(**values)


def test_rows_have_the_documented_columns(tmp_path: Path) -> None:
    with CredentialsSink("berlin", directory=tmp_path) as sink:
        sink.record([credential()])
        sink.record([credential("ben", event="reset")])
    [path] = tmp_path.glob("onenet-credentials-berlin-*.csv")
    assert path.read_text().splitlines()[0] == ",".join(f'"{c}"' for c in COLUMNS)
    rows = read_rows(path)
    assert [(r["user_id"], r["event"], r["password"]) for r in rows] == [
        ("anna", "created", "Xy7!secret-pass"),
        ("ben", "reset", "Xy7!secret-pass"),
    ]


def test_file_is_private(tmp_path: Path) -> None:

    old = os.umask(0)
    try:
        with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
            sink.record([credential()])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c.csv").stat().st_mode) == 0o600


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "c.csv"
    existing.write_text("keep me\n")
    with pytest.raises(CredentialsFileError, match="never overwritten"):
        CredentialsSink("berlin", existing)
    assert existing.read_text() == "keep me\n"


def test_default_names_never_collide(tmp_path: Path) -> None:
    sinks = [CredentialsSink("berlin", directory=tmp_path) for _ in range(3)]
    for sink in sinks:
        sink.record([credential()])
        sink.close()
    assert len({s.path for s in sinks}) == 3
    assert all(len(read_rows(s.path)) == 1 for s in sinks)


def test_no_file_without_a_credential(tmp_path: Path) -> None:
    with CredentialsSink("berlin", directory=tmp_path):
        pass
    assert list(tmp_path.iterdir()) == []


def test_cells_are_exact_and_every_cell_is_quoted(tmp_path: Path) -> None:
    """No guard character: what the file holds is the password that works."""
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential(password="Ab'=cdef12")])
    [row] = read_rows(tmp_path / "c.csv")
    assert row["password"] == "Ab'=cdef12"
    assert row["number"] == "+493012345601"  # E.164: a plain number to a spreadsheet
    line = (tmp_path / "c.csv").read_text().splitlines()[1]
    assert line.startswith('"berlin","anna","anna.s","+493012345601",')
    assert line.count('"') == 2 * len(COLUMNS)


@pytest.mark.parametrize(
    "password", ["=Abcdef12", "+Abcdef12", "-Abcdef12", "@Abcdef12", "\tAbcdef12", "\rAbcdef12"]
)
def test_a_password_a_spreadsheet_would_run_is_never_written(tmp_path: Path, password: str) -> None:
    assert password_cell_problems(password) == [
        "it starts with = + - @, tab or carriage return, which a spreadsheet runs as a formula"
    ]
    sink = CredentialsSink("berlin", tmp_path / "c.csv")
    with sink, pytest.raises(CredentialsFileError, match="its password starts with = \\+ - @"):
        sink.record([credential(password=password)])
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize("password", ["Abc,def12", "Abc;def12", 'Abc"def12'])
def test_a_password_a_spreadsheet_may_split_is_never_written(tmp_path: Path, password: str) -> None:
    sink = CredentialsSink("berlin", tmp_path / "c.csv")
    with sink, pytest.raises(CredentialsFileError, match='its password contains , ; or "'):
        sink.record([credential(password=password)])
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize(
    "column,cell",
    [
        ("username", "=cmd|' /C calc'!A0"),
        ("username", "x;=1+1"),
        ("login_username", "a,@SUM(A1)"),
        ("number", "+49 30 1234"),
        ("number", "-1"),
        ("extension", "\r12"),
        ("device_type", "Yealink\n=1+1"),
        ("issued_at", "@2026"),
        ("event", 'created"'),
        ("site", "=berlin"),
    ],
)
def test_no_other_cell_can_start_a_formula(tmp_path: Path, column: str, cell: str) -> None:
    """Only the number may start with +, and then only as E.164 (+ and digits)."""
    sink = CredentialsSink("berlin", tmp_path / "c.csv")
    with sink, pytest.raises(CredentialsFileError, match=f"user anna to .*c.csv: its {column} "):
        sink.record([credential(**{column: cell})])
    assert not (tmp_path / "c.csv").exists()


def test_generated_passwords_are_exact_cells_in_both_locales() -> None:
    """No = + - @ , ; " ' or white space anywhere: nothing a delimiter could expose."""
    for _ in range(2000):
        password = generate_password()
        assert password_cell_problems(password) == []
        assert not set(password) & set("=+-@,;\"' \t\r\n")


def test_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CredentialsFileError, match="missing-dir is not a directory"):
        CredentialsSink("berlin", tmp_path / "missing-dir" / "c.csv")
    gone = tmp_path / "gone"  # a place that vanishes after the check
    gone.mkdir()
    sink = CredentialsSink("berlin", gone / "c.csv")
    gone.rmdir()
    with pytest.raises(CredentialsFileError, match="cannot create"):
        sink.record([credential()])


def test_after_a_failed_sync_nothing_more_is_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that failed and could not be undone may have left half a row; a row
    appended to it would be garbled."""
    from onenet_apply.apply import credentials

    def failing_disk(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential()])
        monkeypatch.setattr(credentials, "_sync", failing_disk)
        with pytest.raises(
            CredentialsFileError,
            match=r"cannot write .*c\.csv: I/O error; .*c\.csv holds 1 credential committed "
            "before, and may end in a partial row",
        ):
            sink.record([credential("ben")])
        monkeypatch.undo()
        with pytest.raises(CredentialsFileError, match="may end in a partial row; stopping"):
            sink.record([credential("carla")])
    assert sink.written == 1
    assert read_rows(tmp_path / "c.csv")[0]["user_id"] == "anna"


def test_a_full_disk_takes_the_half_written_batch_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half a batch on disk would be passwords that never took effect: truncated away."""
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential()])
        before = (tmp_path / "c.csv").read_bytes()
        fill_disk_after(monkeypatch, sink.path.name, 30)
        with pytest.raises(
            CredentialsFileError,
            match=r"cannot write .*c\.csv: No space left on device; it holds 1 credential "
            "committed before, no more",
        ):
            sink.record([credential("ben"), credential("carla")])
        monkeypatch.undo()
        with pytest.raises(CredentialsFileError, match="could not be written; stopping"):
            sink.record([credential("dora")])
    assert (tmp_path / "c.csv").read_bytes() == before
    assert sink.written == 1


def test_a_failed_header_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty or header-only file would make a rerun with the same name fail."""
    sink = CredentialsSink("berlin", tmp_path / "c.csv")
    fill_disk_after(monkeypatch, sink.path.name, 10)
    with (
        sink,
        pytest.raises(
            CredentialsFileError,
            match="No space left on device; no credential was committed, and the file was removed",
        ),
    ):
        sink.record([credential()])
    monkeypatch.undo()
    assert not (tmp_path / "c.csv").exists()
    with CredentialsSink("berlin", tmp_path / "c.csv") as rerun:
        rerun.record([credential()])
    assert [r["user_id"] for r in read_rows(tmp_path / "c.csv")] == ["anna"]


def test_a_rolled_back_batch_is_taken_out_again(tmp_path: Path) -> None:
    """Every row left is a password that took effect."""
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential()])
        kept = (tmp_path / "c.csv").read_bytes()
        batch = [credential("ben"), credential("carla")]
        sink.record(batch)
        sink.retract([credential("zed")])  # not the last batch: nothing happens
        sink.retract(batch)
        assert (tmp_path / "c.csv").read_bytes() == kept
        assert sink.written == 1
        sink.record([credential("dora")])
    assert [r["user_id"] for r in read_rows(tmp_path / "c.csv")] == ["anna", "dora"]


def test_a_file_whose_every_batch_was_rolled_back_is_removed(tmp_path: Path) -> None:
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        batch = [credential()]
        sink.record(batch)
        sink.retract(batch)
    assert not (tmp_path / "c.csv").exists()


def test_default_credentials_files_are_ignored_by_git() -> None:
    from fnmatch import fnmatch

    from onenet_apply.apply.credentials import default_name
    from tests.conftest import ROOT

    patterns = [
        line.strip()
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    name = default_name("berlin-hq")
    assert any(fnmatch(name, p) for p in patterns)
    assert any(fnmatch(name.replace(".csv", "-2.csv"), p) for p in patterns)


def git_init(directory: Path, *ignored: str) -> Path:
    subprocess.run(["git", "init", "-q", str(directory)], check=True)
    if ignored:
        (directory / ".gitignore").write_text("".join(f"{p}\n" for p in ignored))
    return directory


def test_a_file_git_would_pick_up_is_refused_naming_the_fix(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "site-repo")
    (repo / "sites").mkdir()
    for directory, path in [(repo, None), (repo / "sites", None), (repo, repo / "mine.csv")]:
        sink = CredentialsSink("berlin", path, directory=directory)
        with pytest.raises(CredentialsFileError) as refused:
            sink.check_place()
        with pytest.raises(CredentialsFileError), sink:
            sink.record([credential()])  # the first record checks too, writing nothing
        message = str(refused.value)
        assert f"inside the git work tree {repo} and it is not ignored" in message
        pattern = "mine.csv" if path else "onenet-credentials-*.csv"
        assert f"add {pattern} to {repo / '.gitignore'}" in message
        assert "or write outside the work tree with --credentials-out" in message
    assert sorted(p.name for p in repo.iterdir()) == [".git", "sites"]


def test_a_file_git_ignores_is_written(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "site-repo", "onenet-credentials-*.csv", "secret/")
    (repo / "secret").mkdir()
    for sink in (
        CredentialsSink("berlin", directory=repo),
        CredentialsSink("berlin", repo / "secret" / "c.csv"),
    ):
        with sink:
            sink.record([credential()])
        assert read_rows(sink.path)[0]["user_id"] == "anna"


def test_without_git_a_work_tree_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When git cannot say the file is ignored, it is not written: a committed password
    cannot be taken back."""
    repo = git_init(tmp_path / "site-repo", "onenet-credentials-*.csv")
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    with pytest.raises(CredentialsFileError, match="git is not installed to tell whether") as e:
        CredentialsSink("berlin", directory=repo).check_place()
    # a .gitignore entry cannot help when git cannot answer: only another place can
    assert ".gitignore" not in str(e.value)
    assert str(e.value).endswith("write outside the work tree with --credentials-out")


def test_a_symlinked_directory_does_not_lead_around_the_work_tree(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "site-repo")
    (repo / "sub").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "link").symlink_to(repo / "sub")
    with pytest.raises(CredentialsFileError, match=f"inside the git work tree {repo} and"):
        CredentialsSink("berlin", outside / "link" / "x.csv").check_place()
    assert not (repo / "sub" / "x.csv").exists()
