"""`onenet import`: the current site as a site file that validates and plans to nothing."""

from __future__ import annotations

import random
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.planner import plan
from onenet_apply.sitefile.importer import import_site
from onenet_apply.sitefile.validate import validate_file
from onenet_apply.sitefile.writing import render_site_file
from tests.conftest import EXAMPLE, scaled
from tests.test_planner_properties import OPTIONS, SITE, apply_ready, settle, sites


def applied_and_activated(backend: SandboxBackend, desired: SiteSpec) -> bool:
    """`desired` carried out on `backend` as far as two rounds of apply and activation
    take it, from a random current site; whether the site exists then."""
    settle(backend, desired, random.Random(0), fail_some=False)
    backend.activate(SITE)
    for _ in range(2):
        apply_ready(
            backend,
            plan(desired, backend.read_state(SITE), OPTIONS, catalogue=backend.catalogue()),
        )
        backend.activate(SITE)
    return backend.read_state(SITE).exists


def round_trip(backend: SandboxBackend, site_id: str, directory: Path) -> SiteSpec:
    imported = import_site(backend.read_state(site_id), backend.kept_site(site_id))
    text = render_site_file(imported.document, ["test import"])
    path = directory / "imported.yaml"
    path.write_text(text, "utf-8")
    result = validate_file(str(path))
    assert result.spec is not None, [p.format() for p in result.problems]
    assert plan(result.spec, backend.read_state(site_id), catalogue=backend.catalogue()).empty
    return result.spec


def test_example_round_trip(onenet, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONENET_BACKEND", raising=False)
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    onenet("sandbox", "activate", "--site", "berlin-hq", "--all")
    assert onenet("apply", str(EXAMPLE), "--yes").code == 0
    result = onenet("import", "--site", "berlin-hq", "--name", "Berlin HQ", "--out", "i.yaml")
    assert result.code == 0
    text = (tmp_path / "i.yaml").read_text()
    assert text.splitlines()[1].startswith("# Imported by onenet import from sandbox:")
    assert onenet("validate", "i.yaml").code == 0
    imported, example = validate_file("i.yaml").spec, validate_file(str(EXAMPLE)).spec
    for section in (
        "users",
        "hunt_groups",
        "call_centres",
        "call_pickup_groups",
        "call_park_groups",
    ):
        assert getattr(imported, section) == getattr(example, section), section
    assert (imported.site.id, imported.site.name, imported.site.country) == (
        "berlin-hq",
        "Berlin HQ",
        "DE",
    )
    assert onenet("plan", "i.yaml", "--detailed-exitcode").code == 0
    again = onenet("import", "--site", "berlin-hq", "--out", "i.yaml")
    assert again.code == 1 and "never overwrites" in again.err
    to_stdout = onenet("import", "--site", "berlin-hq", "--name", "Berlin HQ")
    assert to_stdout.out.splitlines()[2:] == text.splitlines()[2:]  # stable, header aside
    assert onenet("import", "--site", "nowhere").code == 1
    impossible = onenet("import", "--site", "berlin-hq", "--out", "no/such/dir/i.yaml")
    assert impossible.code == 1 and "cannot write no/such/dir/i.yaml" in impossible.err


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=sites())
def test_random_sites_round_trip(desired: SiteSpec) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = SandboxBackend(Path(tmp) / "sandbox.db")
        if applied_and_activated(backend, desired):
            round_trip(backend, SITE, Path(tmp))
        backend.close()


@pytest.mark.parametrize(
    ("update", "problem"),
    [
        ("number = 'abc'", "users.anna.number: must be a phone number"),
        ("username = '=cmd'", "users.anna.username: must not contain"),
        ("package = 'gold'", "users.anna.package: unknown package `gold`"),
        ("extension = ''", "users.anna.extension: must be 2 to 6 digits (got '')"),
        ("id = 'anna' || char(10)", "users.anna\\n: key `anna\\n` must start with"),
    ],
)
def test_import_refuses_stored_records_a_site_file_cannot_hold(
    onenet, workdir: Path, update: str, problem: str
) -> None:
    """What import would write must pass `onenet validate`: else one error naming the
    stored records, nothing written, never a traceback."""
    spec = validate_file(str(EXAMPLE)).spec
    SandboxBackend(workdir / ".onenet" / "sandbox.db").seed(spec)
    with sqlite3.connect(workdir / ".onenet" / "sandbox.db") as db:  # as by hand: no rules
        db.execute(f"UPDATE users SET {update} WHERE id = 'anna'")
    result = onenet("import", "--site", "berlin-hq", "--name", "x", "--out", "i.yaml")
    assert result.code == 1
    assert result.err.startswith(
        "Error: site berlin-hq on sandbox:.onenet/sandbox.db cannot be imported: stored records "
        f"would not pass onenet validate, so nothing was written: {problem}"
    ), result.err
    assert result.err.count("\n") == 1
    assert not (workdir / "i.yaml").exists()
    to_stdout = onenet("import", "--site", "berlin-hq")
    assert (to_stdout.code, to_stdout.out) == (1, "")
