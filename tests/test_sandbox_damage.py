"""A damaged or missing sandbox file: one clear line naming the file and what to do."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.store import PAGE_SIZE, SCHEMA_VERSION
from tests.conftest import EXAMPLE

SITE = "berlin-hq"


def _bad_header(path: Path) -> None:
    path.write_bytes(b"not a database, just some text\n" * 200)


def _damaged_header(path: Path) -> None:
    """An SQLite file whose header after the magic string is garbled."""
    data = bytearray(path.read_bytes())
    data[16:24] = b"\xff" * 8
    path.write_bytes(bytes(data))


def _corrupt_page(path: Path) -> None:
    """Scribble over every page after the schema's, as a failing disk might."""
    data = bytearray(path.read_bytes())
    for start in range(2 * PAGE_SIZE, len(data), PAGE_SIZE):
        data[start + 8 : start + PAGE_SIZE] = b"\xa5" * (PAGE_SIZE - 8)
    path.write_bytes(bytes(data))


def _missing_table(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("DROP TABLE members")
    db.commit()
    db.close()


def _newer_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "not sqlite": (_bad_header, "is not a sandbox database: check --backend"),
    "damaged header": (
        _damaged_header,
        "is damaged (file is not a database): restore it from a backup, "
        "or remove it to start with an empty sandbox",
    ),
    "corrupt page": (_corrupt_page, "is damaged (database disk image is malformed): restore it"),
    "missing table": (_missing_table, "is damaged (no such table: members): restore it"),
    "newer schema": (
        _newer_schema,
        f"written by a newer onenet (schema 99); this one knows schema {SCHEMA_VERSION}: "
        "upgrade onenet to use it",
    ),
}

COMMANDS = {
    "plan": ("plan", str(EXAMPLE)),
    "apply": ("apply", str(EXAMPLE), "--yes"),
    "import": ("import", "--site", SITE),
    "status": ("sandbox", "status", "--site", SITE),
}


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sandbox holding the example site, closed (its journal folded into the file)."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "sandbox.db"
    from onenet_apply.sitefile.validate import validate_file

    backend = SandboxBackend(path)
    backend.seed(validate_file(str(EXAMPLE)).spec)
    backend.close()
    assert not (tmp_path / "sandbox.db-wal").exists()
    return path


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_sandbox_is_one_clear_error(onenet, seeded: Path, damage: str, command: str):
    spoil, expected = DAMAGE[damage]
    spoil(seeded)
    before = seeded.read_bytes()
    result = onenet(*COMMANDS[command], "--backend", f"sandbox:{seeded}")
    assert result.code == 1
    assert "Traceback" not in result.err
    [line] = result.err.splitlines()
    assert line.startswith("Error: ")
    assert str(seeded) in line
    assert expected in line
    assert result.out == ""
    assert seeded.read_bytes() == before  # nothing written to it
    assert list(seeded.parent.glob("onenet-credentials-*")) == []


MISSING = {
    "plan": ("plan", str(EXAMPLE)),
    "import": ("import", "--site", SITE),
    "status": ("sandbox", "status", "--site", SITE),
    "activate": ("sandbox", "activate", "--site", SITE, "--all"),
    "credentials reset": ("credentials", "reset", "--site", SITE, "--all", "--yes"),
}


@pytest.mark.parametrize("command", MISSING)
def test_reading_a_sandbox_that_does_not_exist_says_so_and_creates_nothing(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = onenet(*MISSING[command], "--backend", "sandbox:typo/sandbox.db")
    assert result.code == 1
    assert result.err == (
        "Error: sandbox:typo/sandbox.db does not exist, so no site is on it: check --backend "
        "(or $ONENET_BACKEND); onenet apply creates it\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_site_file_given_as_the_backend_is_not_called_damaged(onenet, tmp_path: Path) -> None:
    """Arguments mixed up: the message must not advise removing the user's site file."""
    site = tmp_path / "s.yaml"
    site.write_text(EXAMPLE.read_text())
    result = onenet("plan", str(site), "--backend", f"sandbox:{site}")
    assert (result.code, result.out) == (1, "")
    assert result.err == f"Error: {site} is not a sandbox database: check --backend\n"
    assert site.read_text() == EXAMPLE.read_text()


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_another_programs_database_is_refused_untouched(
    onenet, tmp_path: Path, command: str
) -> None:
    """An SQLite file of another program given as --backend: never migrated into."""
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    before = other.read_bytes()
    args = (command, str(EXAMPLE), "--backend", f"sandbox:{other}")
    result = onenet(*args, *(["--yes"] if command == "apply" else []))
    assert result.code == 1 and result.out == ""
    assert "it is an SQLite database of another program, not a sandbox: check --backend" in (
        result.err
    )
    assert other.read_bytes() == before
    with sqlite3.connect(other) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["invoices"]


def test_apply_and_configure_create_a_new_sandbox(onenet, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert onenet("sandbox", "configure", "--site", "x", "--backend", "sandbox:a/s.db").code == 0
    assert (tmp_path / "a" / "s.db").exists()
    applied = onenet("apply", str(EXAMPLE), "--yes", "--backend", "sandbox:b/s.db")
    assert applied.code == 3, applied.err
    assert onenet("plan", str(EXAMPLE), "--backend", "sandbox:b/s.db").code == 0


def test_a_saved_plan_is_not_applied_to_a_sandbox_that_does_not_exist(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    SandboxBackend(tmp_path / "here.db").close()
    assert onenet("plan", str(EXAMPLE), "--backend", "sandbox:here.db", "--out", "p.json").code == 0
    result = onenet("apply", "p.json", "--yes", "--backend", "sandbox:typo.db")
    assert result.code == 1
    assert "Error: sandbox:typo.db does not exist, so no site is on it" in result.err
    assert not (tmp_path / "typo.db").exists()


def test_an_empty_file_is_no_sandbox_to_read(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A truncated sandbox (0 bytes) is not read as an empty site and planned whole,
    nor written to by a command that only reads."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.db").write_bytes(b"")
    for command in (
        ("plan", str(EXAMPLE)),
        ("import", "--site", "berlin-hq"),
        ("sandbox", "status", "--site", "berlin-hq"),
    ):
        result = onenet(*command, "--backend", "sandbox:empty.db")
        assert result.code == 1, command
        assert "Error: sandbox:empty.db is an empty file, so no site is on it" in result.err
        assert (tmp_path / "empty.db").stat().st_size == 0
