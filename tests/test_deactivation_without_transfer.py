"""A deactivated user whose callers hear the announcement only, with no transfer.

The platform lets the admin transfer callers, but does not require it: site file,
plan, sandbox and import all carry a deactivation without `deactivation`."""

from __future__ import annotations

from pathlib import Path

import pytest

SITE = """version: 1
site: {id: test, name: Test, country: DE}
users:
  anna: {first_name: Anna, last_name: Schmidt, number: "030 12345601", package: standard}
  ben:
    first_name: Ben
    last_name: Meyer
    number: "030 12345602"
    package: standard
    status: deactivated
"""
TRANSFER = '    deactivation: {transfer_to: "030 12345601", caller: presses-key}\n'


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ONENET_BACKEND", f"sandbox:{tmp_path / 'sandbox.db'}")
    return tmp_path


def converge(onenet, site: Path) -> None:
    onenet("apply", str(site), "--yes")
    onenet("sandbox", "activate", "--site", "test", "--all")
    result = onenet("apply", str(site), "--yes")
    assert result.code == 0, result.err
    assert onenet("plan", str(site), "--detailed-exitcode").code == 0


def test_announcement_only_applies_and_imports_to_no_changes(workdir: Path, onenet) -> None:
    site = workdir / "site.yaml"
    site.write_text(SITE)
    assert onenet("validate", str(site)).code == 0
    converge(onenet, site)
    result = onenet("import", "--site", "test", "--name", "Test", "--out", "imported.yaml")
    assert result.code == 0, result.err
    imported = (workdir / "imported.yaml").read_text()
    assert "status: deactivated" in imported and "deactivation" not in imported
    assert onenet("plan", "imported.yaml", "--detailed-exitcode").code == 0


def test_a_transfer_can_be_added_and_taken_away(workdir: Path, onenet) -> None:
    site = workdir / "site.yaml"
    site.write_text(SITE + TRANSFER)
    converge(onenet, site)
    site.write_text(SITE)
    shown = onenet("plan", str(site), "--format", "json")
    assert '"field": "deactivation"' in shown.out and '"after": null' in shown.out
    converge(onenet, site)
    site.write_text(SITE + TRANSFER)
    converge(onenet, site)


def test_taking_the_transfer_away_shows_only_what_changes(workdir: Path, onenet) -> None:
    site = workdir / "site.yaml"
    site.write_text(SITE + TRANSFER)
    converge(onenet, site)
    site.write_text(SITE)
    shown = onenet("plan", str(site))
    assert "~ user/ben deactivate\n" in shown.out
    assert "status:" not in shown.out  # not `"deactivated" -> "deactivated"`
    assert 'deactivation: {transfer_to: "+493012345601", caller: "presses-key"} -> (none)' in (
        shown.out
    )
    as_json = onenet("plan", str(site), "--format", "json")
    assert '"field": "status"' not in as_json.out
    converge(onenet, site)
