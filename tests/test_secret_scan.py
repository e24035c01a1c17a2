"""Passwords live only in credentials CSVs: after a whole apply, activate, apply,
reset and import, a scan of every other file under the working directory (the
sandbox database and its WAL, the saved plan, the imported site), the journal and
all output finds none. With recipients, the same run leaves no plain CSV at all,
and the scan takes in the encrypted `.csv.age` files too."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest

from onenet_apply.apply.credentials import read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from tests.conftest import EXAMPLE

CHOSEN = "Chosen-Pass-42"


def encrypted_passwords(files: set[Path], identity: object) -> set[str]:
    import pyrage

    rows = (
        csv.DictReader(io.StringIO(pyrage.decrypt(f.read_bytes(), [identity]).decode()))
        for f in files
    )
    return {r["password"] for file_rows in rows for r in file_rows}


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_no_password_outside_the_csv_files(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encrypted: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    if encrypted:
        from pyrage import x25519

        identity = x25519.Identity.generate()
        monkeypatch.setenv("ONENET_CREDENTIALS_RECIPIENTS", str(identity.to_public()))
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
    run("credentials", "reset", "--site", "berlin-hq", "--all", "--yes")
    monkeypatch.setattr(sys, "stdin", io.StringIO(CHOSEN + "\n"))
    run("credentials", "reset", "--site", "berlin-hq", "anna", "--password-stdin")
    run("import", "--site", "berlin-hq", "--out", "berlin-hq.yaml")
    run("sandbox", "status", "--site", "berlin-hq", "--format", "json")
    csv_files = set(tmp_path.glob("onenet-credentials-*.csv"))
    passwords = {r["password"] for f in csv_files for r in read_rows(f)}
    if encrypted:
        assert csv_files == set()  # no plain text file, and the scan reads the .age files
        passwords = encrypted_passwords(
            set(tmp_path.glob("onenet-credentials-*.csv.age")), identity
        )
    assert CHOSEN in passwords and len(passwords) == 11 + 11 + 1  # apply, reset --all, chosen
    backend = SandboxBackend(tmp_path / ".onenet" / "sandbox.db")
    journal = repr(backend.journal("berlin-hq")).encode()
    backend.close()
    written = {
        path: path.read_bytes()
        for path in tmp_path.rglob("*")
        if path.is_file() and path not in csv_files
    }
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {"plan.json", ".onenet/sandbox.db", "berlin-hq.yaml"} <= names, names
    haystacks = {"output": "\n".join(outputs).encode(), "journal": journal, **written}
    for password in passwords:
        for where, data in haystacks.items():
            assert password.encode() not in data, f"a password is in {where}"
