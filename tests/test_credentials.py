"""The credentials CSV sink: columns, permissions, never overwriting, formula guard."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from onenet_apply.backends.base import Credential
from onenet_apply.credentials import (
    COLUMNS,
    CredentialsFileError,
    CredentialsSink,
    guard,
    read_rows,
)


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
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    rows = read_rows(path)
    assert [(r["user_id"], r["event"], r["password"]) for r in rows] == [
        ("anna", "created", "Xy7!secret-pass"),
        ("ben", "reset", "Xy7!secret-pass"),
    ]


def test_file_is_private(tmp_path: Path) -> None:
    import os

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


@pytest.mark.parametrize(
    "cell,expected",
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+493012345601", "'+493012345601"),
        ("anna", "anna"),
        ("", ""),
    ],
)
def test_formula_guard(cell: str, expected: str) -> None:
    assert guard(cell) == expected


def test_guard_applies_to_every_cell(tmp_path: Path) -> None:
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential(username="=cmd|' /C calc'!A0", password="-Ab3!xyzz")])
    [row] = read_rows(tmp_path / "c.csv")
    assert row["username"] == "'=cmd|' /C calc'!A0"
    assert row["password"] == "'-Ab3!xyzz"
    assert row["number"] == "'+493012345601"


def test_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CredentialsFileError, match="missing-dir is not a directory"):
        CredentialsSink("berlin", tmp_path / "missing-dir" / "c.csv")
    gone = tmp_path / "gone"  # a place that vanishes after the check
    gone.mkdir()
    sink = CredentialsSink("berlin", gone / "c.csv")
    gone.rmdir()
    with pytest.raises(CredentialsFileError, match="cannot create"):
        sink.record([credential()])


def test_after_a_failed_write_nothing_more_is_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that failed may have left half a row; a row appended to it would be garbled."""
    import errno

    from onenet_apply import credentials

    def failing_disk(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential()])
        monkeypatch.setattr(credentials, "_sync", failing_disk)
        with pytest.raises(CredentialsFileError, match=r"cannot write .*c\.csv: I/O error"):
            sink.record([credential("ben")])
        monkeypatch.undo()
        with pytest.raises(CredentialsFileError, match="could not be written before"):
            sink.record([credential("carla")])
    assert sink.written == 1
    assert [r["user_id"] for r in read_rows(tmp_path / "c.csv")] == ["anna", "ben"]


def test_default_credentials_files_are_ignored_by_git() -> None:
    from fnmatch import fnmatch

    from onenet_apply.credentials import default_name
    from tests.conftest import ROOT

    patterns = [
        line.strip()
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    name = default_name("berlin-hq")
    assert any(fnmatch(name, p) for p in patterns)
    assert any(fnmatch(name.replace(".csv", "-2.csv"), p) for p in patterns)
