"""The credentials CSV when the disk fails at the edges: creating the file, taking a
rolled-back batch out, a name taken meanwhile. Each keeps the file exact, or says
precisely what it holds, and never appends to a file it could not repair."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from onenet_apply.apply import credentials
from onenet_apply.apply.credentials import CredentialsFileError, CredentialsSink, read_rows
from tests.test_credentials import credential


def io_error(*args: object) -> None:
    raise OSError(errno.EIO, os.strerror(errno.EIO))


def test_a_file_that_cannot_be_made_durable_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = CredentialsSink("berlin", tmp_path / "c.csv")
    monkeypatch.setattr(credentials, "_fsync_directory", io_error)
    with pytest.raises(CredentialsFileError, match=r"cannot create .*c\.csv: Input/output error"):
        sink.record([credential()])
    monkeypatch.undo()
    sink.close()
    assert list(tmp_path.iterdir()) == []
    assert sink.written == 0


def test_a_rollback_that_cannot_be_taken_out_stops_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential()])
        batch = [credential("ben")]
        sink.record(batch)
        monkeypatch.setattr(os, "ftruncate", io_error)
        sink.retract(batch)  # never raises: the platform's own error is the one to report
        monkeypatch.undo()
        assert sink.written == 1
        with pytest.raises(
            CredentialsFileError,
            match=r"c\.csv holds 1 credential the platform committed, then 1 rows it rolled "
            r"back that could not be taken out \(Input/output error\); stopping",
        ):
            sink.record([credential("carla")])
    assert [row["user_id"] for row in read_rows(tmp_path / "c.csv")] == ["anna", "ben"]


def test_an_explicit_file_created_meanwhile_is_never_overwritten(tmp_path: Path) -> None:
    sink = CredentialsSink("berlin", tmp_path / "c.csv")
    (tmp_path / "c.csv").write_text("someone else's\n")  # after the check, before a row
    with pytest.raises(CredentialsFileError, match=r"c\.csv exists; credentials files are never"):
        sink.record([credential()])
    sink.close()
    assert (tmp_path / "c.csv").read_text() == "someone else's\n"


def test_an_empty_batch_creates_no_file(tmp_path: Path) -> None:
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([])
    assert list(tmp_path.iterdir()) == []
