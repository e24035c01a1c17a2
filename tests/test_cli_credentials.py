"""`onenet credentials reset`: new details or a chosen password, CSV only, skips explained."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.credentials import read_rows
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
    result = onenet("credentials", "reset", "--site", SITE, "--all", "--credentials-out", "r.csv")
    assert result.code == 0
    rows = read_rows(workdir / "r.csv")
    assert [(r["user_id"], r["event"]) for r in rows] == [("anna", "reset"), ("ben", "reset")]
    for row in rows:
        assert backend(workdir).verify_login(SITE, row["user_id"], row["password"])
        assert row["password"] not in result.out + result.err
    assert "skipped carla: is pending" in result.err
    assert "skipped emil: its activation failed" in result.err
    assert "issued new login details to 2 users; written to r.csv" in result.err


def test_reset_named_users_and_skips(onenet, workdir: Path) -> None:
    result = onenet("credentials", "reset", "--site", SITE, "anna", "dora")
    assert result.code == 0
    assert "skipped dora: has no desk phone" in result.err
    [csv_file] = workdir.glob("onenet-credentials-*.csv")
    assert [r["user_id"] for r in read_rows(csv_file)] == ["anna"]


def test_unknown_user_changes_nothing(onenet, workdir: Path) -> None:
    result = onenet("credentials", "reset", "--site", SITE, "anna", "zed")
    assert result.code == 1
    assert "no such user on site berlin: zed" in result.err
    assert not list(workdir.glob("onenet-credentials-*.csv"))


def test_set_password_from_stdin(onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Chosen-Pass-42\n"))
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
    assert (row["event"], row["password"]) == ("set", "Chosen-Pass-42")
    assert backend(workdir).verify_login(SITE, "anna", "Chosen-Pass-42")
    assert "Chosen-Pass-42" not in result.err + result.out


def test_weak_password_is_refused_before_anything_changes(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    result = onenet("credentials", "reset", "--site", SITE, "--all", "--password-stdin")
    assert result.code == 1
    assert "at least 8 characters" in result.err and "short" not in result.err.split(":")[0]
    assert not list(workdir.glob("onenet-credentials-*.csv"))


def test_usage(onenet, workdir: Path) -> None:
    assert onenet("credentials", "reset", "--site", SITE).code == 1
    assert onenet("credentials", "reset", "--site", SITE, "anna", "--all").code == 1
