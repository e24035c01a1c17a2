"""The credentials sink under repeated calls: a batch retracted twice, a sink closed twice."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from onenet_apply.apply import credentials
from onenet_apply.apply.credentials import CredentialsFileError, CredentialsSink, read_rows
from tests.test_credentials import credential


def test_a_batch_retracted_twice_is_taken_out_once(tmp_path: Path) -> None:
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential()])
        batch = [credential("ben")]
        sink.record(batch)
        sink.retract(batch)
        sink.retract(batch)  # the platform reports the same rollback again
        assert sink.written == 1
    assert [r["user_id"] for r in read_rows(tmp_path / "c.csv")] == ["anna"]


def test_closing_twice_closes_the_file_once(tmp_path: Path) -> None:
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential()])
        sink.close()
    # leaving the block closed it again: no error, and the file is intact
    assert [r["user_id"] for r in read_rows(tmp_path / "c.csv")] == ["anna"]


def test_a_taken_default_name_gets_the_next_free_number(tmp_path: Path) -> None:
    with CredentialsSink("berlin", directory=tmp_path) as sink:
        first = sink.path
        first.write_text("")  # another run took this name in the same second
        sink.record([credential()])
    assert sink.path == first.with_name(f"{first.stem}-2.csv")
    assert [r["user_id"] for r in read_rows(sink.path)] == ["anna"]


def test_removing_an_empty_file_syncs_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The removal survives a crash, so a rerun finds the name free."""
    synced: list[Path] = []
    monkeypatch.setattr(credentials, "_fsync_directory", synced.append)
    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        batch = [credential()]
        sink.record(batch)
        sink.retract(batch)
        synced.clear()
    assert not (tmp_path / "c.csv").exists()
    assert synced == [tmp_path]


def test_a_new_file_that_cannot_be_made_durable_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(directory: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(credentials, "_fsync_directory", failing)
    sink = CredentialsSink("berlin", tmp_path / "c.csv")
    with pytest.raises(CredentialsFileError) as caught:
        sink.record([credential()])
    assert str(caught.value) == f"cannot create {tmp_path / 'c.csv'}: Input/output error"
    assert list(tmp_path.iterdir()) == []
