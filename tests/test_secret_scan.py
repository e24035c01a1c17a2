"""Passwords live only in credentials CSVs: a scan of everything else finds none."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.credentials import read_rows
from tests.conftest import EXAMPLE

CHOSEN = "Chosen-Pass-42"


def test_no_password_outside_the_csv_files(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONENET_BACKEND", raising=False)
    SandboxBackend(tmp_path / ".onenet" / "sandbox.db").close()  # plan reads an existing sandbox
    outputs: list[str] = []

    def run(*args: str) -> None:
        result = onenet(*args)
        outputs.extend([result.out, result.err])

    run("plan", str(EXAMPLE), "--out", "plan.json", "--format", "json")
    run("apply", "plan.json", "--yes")
    run("sandbox", "activate", "--site", "berlin-hq", "--all")
    run("apply", str(EXAMPLE), "--yes")
    run("plan", str(EXAMPLE), "--format", "markdown")
    run("credentials", "reset", "--site", "berlin-hq", "--all")
    monkeypatch.setattr(sys, "stdin", io.StringIO(CHOSEN + "\n"))
    run("credentials", "reset", "--site", "berlin-hq", "anna", "--password-stdin")
    run("import", "--site", "berlin-hq")
    run("sandbox", "status", "--site", "berlin-hq", "--format", "json")
    passwords = {
        r["password"] for f in tmp_path.glob("onenet-credentials-*.csv") for r in read_rows(f)
    }
    assert CHOSEN in passwords and len(passwords) > 20
    backend = SandboxBackend(tmp_path / ".onenet" / "sandbox.db")
    journal = repr(backend.journal("berlin-hq"))
    backend.close()
    stored = b"".join(p.read_bytes() for p in (tmp_path / ".onenet").iterdir())
    haystack = "\n".join(outputs) + journal + (tmp_path / "plan.json").read_text()
    for password in passwords:
        assert password not in haystack
        assert password.encode() not in stored
