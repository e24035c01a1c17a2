"""The README walkthrough over OCI-P, through the real CLI: `onenet sandbox
serve-ocip` in its own process serves a sandbox file, and `onenet` talks to it
with `--backend ocip://127.0.0.1:PORT/sandbox` (apply, activation, convergence,
deactivate and reactivate, a number swap, a delete, a credentials reset, import).
Every document the client sends passes the R25 schema; no password appears in any
output; every credential the peer stores is one of the CSV's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onenet_apply.apply.credentials import read_rows
from onenet_apply.backends.ocip import transport
from onenet_apply.backends.sandbox import SandboxBackend
from tests.conftest import EXAMPLE, example_without_lena
from tests.ocip_kit import DocumentTap

SITE = "berlin-hq"
USER = "onenet-admin"
PASSWORD = "Peer-Secret-42"


@dataclass
class Served:
    url: str
    sandbox_url: str
    path: Path
    process: subprocess.Popen[str]

    def sandbox(self) -> SandboxBackend:
        return SandboxBackend(self.path)


@pytest.fixture
def served(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("ONENET_OCIP_USER", USER)
    monkeypatch.setenv("ONENET_OCIP_PASSWORD", PASSWORD)
    monkeypatch.setenv("ONENET_LOCK_DIR", str(workdir / "locks"))
    path = workdir / "peer.db"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onenet_apply",
            "sandbox",
            "serve-ocip",
            "--backend",
            f"sandbox:{path}",
            "--listen",
            "127.0.0.1:0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("listening on 127.0.0.1:"), line
    url = f"ocip://127.0.0.1:{line.strip().rpartition(':')[2]}/sandbox"
    monkeypatch.setenv("ONENET_BACKEND", url)
    try:
        yield Served(url, f"sandbox:{path}", path, process)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert PASSWORD not in err


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch, xsd_checked: DocumentTap) -> DocumentTap:
    """Every document the CLI's channel sends, checked against the schema at the end."""
    plain = transport.SocketChannel.__init__

    def tapped(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        plain(self, *args, **kwargs)
        self.taps.append(xsd_checked)

    monkeypatch.setattr(transport.SocketChannel, "__init__", tapped)
    return xsd_checked


def _no_password_in(*outputs: str, passwords: list[str]) -> None:
    for password in [*passwords, PASSWORD]:
        for output in outputs:
            assert password not in output


def test_readme_walkthrough_over_ocip(
    onenet, workdir: Path, served: Served, sent: DocumentTap
) -> None:
    first = onenet("apply", str(EXAMPLE), "--yes")
    assert first.code == 3, first.err
    assert "Apply: 19 applied, 4 deferred, 0 blocked, 0 gated, 0 failed." in first.out
    [csv_file] = workdir.glob("onenet-credentials-berlin-hq-*.csv")
    rows = read_rows(csv_file)
    assert len(rows) == 11
    sandbox = served.sandbox()
    for row in rows:  # every password the platform holds is the CSV's
        assert sandbox.verify_login(SITE, row["user_id"], row["password"].lstrip("'"))
    assert (
        onenet("sandbox", "activate", "--site", SITE, "--all", "--backend", served.sandbox_url).code
        == 0
    )
    second = onenet("apply", str(EXAMPLE), "--yes")
    assert second.code == 0, second.err
    assert "Apply: 4 applied, 0 deferred" in second.out
    converged = onenet("plan", str(EXAMPLE), "--detailed-exitcode")
    assert converged.code == 0, converged.out
    assert sandbox.check_consistency(SITE) == []
    journal = repr(sandbox.journal(SITE))
    _no_password_in(
        journal,
        first.out,
        first.err,
        second.out,
        second.err,
        passwords=[r["password"].lstrip("'") for r in rows],
    )
    assert "UserAddRequest22V2" in sent.types()


def _converge(onenet, site: Path) -> None:  # type: ignore[no-untyped-def]
    result = onenet("apply", str(site), "--yes", "--allow-delete")
    assert result.code == 0, result.out + result.err
    assert onenet("plan", str(site), "--detailed-exitcode").code == 0


@pytest.fixture
def live(onenet, workdir: Path, served: Served, sent: DocumentTap) -> Served:  # type: ignore[no-untyped-def]
    """The example applied over OCI-P and activated: the walkthrough's end."""
    assert onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "first.csv").code == 3
    assert (
        onenet("sandbox", "activate", "--site", SITE, "--all", "--backend", served.sandbox_url).code
        == 0
    )
    assert onenet("apply", str(EXAMPLE), "--yes").code == 0
    return served


def test_deactivate_and_reactivate_over_ocip(onenet, workdir: Path, live: Served) -> None:
    text = EXAMPLE.read_text()
    start = text.index("  ben:")
    end = text.index("\n  carla:")
    ben = text[start:end].rstrip("\n") + (
        '\n    status: deactivated\n    deactivation: {transfer_to: "030 12345601", caller: hears-number}'
    )
    site = workdir / "site.yaml"
    site.write_text(text[:start] + ben + text[end:])
    _converge(onenet, site)
    assert live.sandbox().read_state(SITE).users["ben"].lifecycle == "deactivated"
    site.write_text(text)
    _converge(onenet, site)
    assert live.sandbox().read_state(SITE).users["ben"].lifecycle == "activated"


def test_number_swap_over_ocip(onenet, workdir: Path, live: Served) -> None:
    text = EXAMPLE.read_text()
    swapped = text.replace('"030 12345601"', "SWAP").replace('"030 12345602"', '"030 12345601"')
    site = workdir / "site.yaml"
    site.write_text(swapped.replace("SWAP", '"030 12345602"'))
    _converge(onenet, site)
    users = live.sandbox().read_state(SITE).users
    assert (users["anna"].item.number, users["ben"].item.number) == (
        "+493012345602",
        "+493012345601",
    )


def test_delete_over_ocip(onenet, workdir: Path, live: Served) -> None:
    site = workdir / "site.yaml"
    site.write_text(example_without_lena())
    _converge(onenet, site)
    assert "lena" not in live.sandbox().read_state(SITE).users


def test_credentials_reset_over_ocip(onenet, workdir: Path, live: Served) -> None:
    result = onenet(
        "credentials", "reset", "--site", SITE, "anna", "--credentials-out", "reset.csv"
    )
    assert result.code == 0, result.err
    [row] = read_rows(workdir / "reset.csv")
    assert row["user_id"] == "anna" and row["event"] == "reset"
    password = row["password"].lstrip("'")
    assert live.sandbox().verify_login(SITE, "anna", password)
    _no_password_in(result.out, result.err, passwords=[password])


def test_import_round_trip_over_ocip(onenet, workdir: Path, live: Served) -> None:
    result = onenet(
        "import", "--site", SITE, "--name", "Berlin HQ", "--country", "DE", "--out", "imported.yaml"
    )
    assert result.code == 0, result.err
    assert onenet("validate", "imported.yaml").code == 0
    planned = onenet("plan", "imported.yaml", "--detailed-exitcode")
    assert planned.code == 0, planned.out
