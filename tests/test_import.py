"""`onenet import`: the current site as a site file that validates and plans to nothing."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.importer import render_site, site_document
from onenet_apply.planner import plan
from onenet_apply.spec import SiteSpec
from onenet_apply.validate import validate_file
from tests.conftest import EXAMPLE, scaled
from tests.test_planner_properties import OPTIONS, SITE, apply_ready, settle, sites


def round_trip(backend: SandboxBackend, site_id: str, directory: Path) -> SiteSpec:
    text = render_site(site_document(backend.read_state(site_id)), "test import")
    path = directory / "imported.yaml"
    path.write_text(text, "utf-8")
    result = validate_file(str(path))
    assert result.spec is not None, [p.format() for p in result.problems]
    assert plan(result.spec, backend.read_state(site_id)).empty
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
        settle(backend, desired, random.Random(0), fail_some=False)
        backend.activate(SITE)
        for _ in range(2):
            apply_ready(backend, plan(desired, backend.read_state(SITE), OPTIONS))
            backend.activate(SITE)
        if backend.read_state(SITE).exists:
            round_trip(backend, SITE, Path(tmp))
        backend.close()
