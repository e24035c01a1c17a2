"""`onenet import` keeps the site: every site setting the backend knows or kept from
the last apply, in one stable style (a re-import of an unchanged site is
byte-identical), with a schema modeline that resolves to the schema the tool ships."""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from onenet_apply.backends import registry
from onenet_apply.backends.sandbox import SandboxBackend, store
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.spec import Policy, SiteSpec
from onenet_apply.savedplan.spec_check import validate_text
from onenet_apply.sitefile.schema import schema_text, site_schema
from onenet_apply.sitefile.validate import validate_file
from onenet_apply.sitefile.writing import render_site_file
from tests.conftest import EXAMPLE, scaled
from tests.memory_backend import PLATFORMS, open_memory
from tests.test_import import applied_and_activated, round_trip
from tests.test_planner_properties import SITE, sites

LAB = """\
version: 1
site:
  id: lab
  name: Labor Köln
  country: DE
  extension_length: 3
  number_pool: ["0221 5550100-0221 5550199"]
  licences: {standard: 3, receptionist: 2}
  policy: {allow_delete: true, max_change_percent: 50}
  unmanaged: ["svc-*"]
users:
  ada:
    first_name: Ada
    last_name: Lovelace
    number: "0221 5550101"
    package: standard
  bob:
    first_name: Bob
    last_name: Babbage
    number: "0221 5550102"
    package: standard
"""


def settle(onenet, site_file: str, site: str, *backend: str) -> None:
    """Apply, let the carrier activate everything, apply again: nothing left to do."""
    assert onenet("apply", site_file, "--yes", *backend).code in (0, 3)
    onenet("sandbox", "activate", "--site", site, "--all", *backend)
    assert onenet("apply", site_file, "--yes", *backend).code == 0


@pytest.fixture
def lab(onenet, workdir: Path) -> Path:
    """The lab site applied and settled, on a sandbox that owns 3 standard licences."""
    (workdir / "lab.yaml").write_text(LAB, "utf-8")
    onenet("sandbox", "configure", "--site", "lab", "--licence", "standard=3")
    settle(onenet, "lab.yaml", "lab")
    return workdir


def test_a_reimport_of_an_unchanged_site_is_byte_identical(onenet, workdir: Path) -> None:
    settle(onenet, str(EXAMPLE), "berlin-hq")
    assert onenet("import", "--site", "berlin-hq", "--out", "first.yaml").code == 0
    assert onenet("plan", "first.yaml", "--detailed-exitcode").code == 0
    assert onenet("apply", "first.yaml", "--yes").code == 0  # the imported file, applied
    assert onenet("import", "--site", "berlin-hq", "--out", "again.yaml").code == 0
    first = (workdir / "first.yaml").read_bytes()
    assert (workdir / "again.yaml").read_bytes() == first
    assert onenet("import", "--site", "berlin-hq").out.encode() == first  # stdout too

    elsewhere = ("--backend", "sandbox:elsewhere.db")  # applied to another backend
    settle(onenet, "first.yaml", "berlin-hq", *elsewhere)
    there = onenet("import", "--site", "berlin-hq", *elsewhere).out
    source = "from sandbox:.onenet/sandbox.db, site"
    assert there == first.decode().replace(source, "from sandbox:elsewhere.db, site")


def test_an_imported_site_keeps_its_settings_plans_nothing_and_swaps(onenet, lab: Path) -> None:
    result = onenet("import", "--site", "lab", "--out", "imported.yaml")  # no --name
    assert result.code == 0, result.err
    imported = validate_file("imported.yaml").spec
    original = validate_file("lab.yaml").spec
    assert imported is not None and original is not None
    assert imported.site == original.site  # name, country, pool, licences, policy, unmanaged
    assert imported.site.policy == Policy(True, 50) and imported.site.extension_length == 3
    assert imported.users == original.users
    assert onenet("plan", "imported.yaml", "--detailed-exitcode").code == 0

    text = (lab / "imported.yaml").read_text("utf-8")
    swapped = text.replace('"+492215550101"', "ADA").replace('"+492215550102"', '"+492215550101"')
    (lab / "imported.yaml").write_text(swapped.replace("ADA", '"+492215550102"'), "utf-8")
    plan = onenet("plan", "imported.yaml")
    assert 'number: "+492215550101" -> "+492215550100"' in plan.out  # a free pool number
    assert "Plan: 3 ready, 0 deferred, 0 blocked, 0 gated." in plan.out, plan.out
    assert onenet("apply", "imported.yaml", "--yes").code == 0
    state = SandboxBackend(lab / ".onenet" / "sandbox.db").read_state("lab")
    assert state.users["ada"].item.number == "+492215550102"
    assert state.users["bob"].item.number == "+492215550101"


def test_licences_are_those_the_planner_sees_owned_over_declared(onenet, lab: Path) -> None:
    """The sandbox owns 3 standard licences; the file declared 2 receptionist too:
    both reach the import, as the planner counts them."""
    onenet("sandbox", "configure", "--site", "lab", "--licence", "standard=5")
    spec = validate_file_text(onenet("import", "--site", "lab").out, lab)
    assert dict(spec.site.licences) == {"standard": 5, "receptionist": 2}


def test_name_and_country_options_override_the_kept_ones(onenet, lab: Path) -> None:
    out = onenet("import", "--site", "lab", "--name", "Cologne Lab").out
    assert "\n  name: Cologne Lab\n" in out
    assert "copy" not in out  # the backend knew every setting


def test_the_modeline_resolves_to_the_schema_the_tool_validates_with(onenet, lab: Path) -> None:
    first = onenet("import", "--site", "lab").out.splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    url = urlparse(first.removeprefix(prefix))
    assert url.scheme == "file"
    schema = Path(url2pathname(url.path))
    assert schema.is_file()
    assert schema.read_text("utf-8") == schema_text()


def test_one_style_no_wrapping_keys_in_schema_order(onenet, workdir: Path) -> None:
    """Block mappings down to each object even when it holds only scalars, flow inside,
    double quotes, and a long member list on one line."""
    users = "".join(
        f"  user{i:02}:\n    first_name: Person\n    last_name: Number{i}\n"
        f'    number: "+4930123456{i:02}"\n    package: standard\n'
        for i in range(40)
    )
    members = ", ".join(f"user{i:02}" for i in range(40))
    site = (
        "version: 1\nsite: {id: big, name: Big, country: DE}\n"
        f"users:\n{users}"
        f'hunt_groups:\n  all: {{policy: simultaneous, name: All, number: "+493012345699", '
        f"members: [{members}]}}\n"
    )
    (workdir / "big.yaml").write_text(site, "utf-8")
    settle(onenet, "big.yaml", "big")
    out = onenet("import", "--site", "big", "--name", "Big").out
    lines = out.splitlines()
    assert "site:" in lines and "  user00:" in lines and "  all:" in lines
    assert f"    members: [{members}]" in lines  # over 100 characters, never wrapped
    assert "'" not in out
    assert [line for line in lines if line and not line.startswith((" ", "#"))] == [
        "version: 1",
        "site:",
        "users:",
        "hunt_groups:",
    ]
    assert lines[lines.index("users:") - 1] == "" and lines[lines.index("site:") - 1] != ""
    assert_schema_order(yaml.safe_load(out), site_schema(), site_schema())


def test_a_backend_that_keeps_no_settings_names_those_to_copy(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    registry.register("memory", open_memory)
    try:
        memory = ("--backend", "memory:import-keeps")
        for _ in range(3):  # the memory platform activates at once
            onenet("apply", str(EXAMPLE), "--yes", *memory)
        result = onenet("import", "--site", "berlin-hq", *memory)
        assert result.code == 0, result.err
        (tmp_path / "imported.yaml").write_text(result.out, "utf-8")
        assert onenet("plan", "imported.yaml", "--detailed-exitcode", *memory).code == 0
    finally:
        registry.unregister("memory")
        PLATFORMS.pop("import-keeps", None)
    assert header_of(result.out) == (
        "Imported by onenet import from memory:import-keeps, site berlin-hq. "
        "This backend keeps no site settings of the site files applied to it: copy name, "
        "number_pool, licences, policy and unmanaged over from your own site file where it "
        "sets them (name here is the site's id); country and extension_length are read "
        "from the site's records."
    )
    assert "\n  name: berlin-hq\n" in result.out


def test_a_site_applied_before_settings_were_kept_says_so(onenet, lab: Path) -> None:
    with sqlite3.connect(lab / ".onenet" / "sandbox.db") as db:
        db.execute("UPDATE sites SET applied_site = NULL")
    out = onenet("import", "--site", "lab", "--country", "DE").out
    assert header_of(out) == (
        "Imported by onenet import from sandbox:.onenet/sandbox.db, site lab. "
        "The backend has kept no site settings for site lab yet (it keeps those of the next "
        "apply): copy name, number_pool, policy and unmanaged over from your own site file "
        "where it sets them (name here is the site's id); extension_length is read from the "
        "site's records."
    )  # licences: the sandbox owns some, and they are written
    assert "\n  licences: {standard: 3}\n" in out and "\n  extension_length: 3\n" in out


def test_what_apply_keeps(onenet, lab: Path) -> None:
    """A declined or gated apply keeps nothing; one that changes nothing keeps the new
    settings; a saved plan's apply keeps its site's."""
    text = (lab / "lab.yaml").read_text("utf-8")
    renamed = text.replace("name: Labor Köln", "name: Gated")
    (lab / "gated.yaml").write_text(renamed.replace("allow_delete: true", "allow_delete: false"))
    (lab / "gated.yaml").write_text(
        (lab / "gated.yaml").read_text().split("  bob:")[0]  # deletes bob: gated
    )
    assert onenet("apply", "gated.yaml", "--yes").code == 1
    assert "\n  name: Labor Köln\n" in onenet("import", "--site", "lab").out

    (lab / "policy.yaml").write_text(
        text.replace("max_change_percent: 50", "max_change_percent: 20")
    )
    assert onenet("apply", "policy.yaml", "--yes").code == 0  # nothing to change
    assert (
        "policy: {allow_delete: true, max_change_percent: 20}"
        in onenet("import", "--site", "lab").out
    )

    (lab / "saved.yaml").write_text(text.replace("name: Labor Köln", "name: Saved"))
    assert onenet("plan", "saved.yaml", "--out", "saved.plan").code == 0
    assert onenet("apply", "saved.plan", "--yes").code == 0
    assert "\n  name: Saved\n" in onenet("import", "--site", "lab").out


def test_unreadable_kept_settings_are_one_clear_error(onenet, lab: Path) -> None:
    with sqlite3.connect(lab / ".onenet" / "sandbox.db") as db:
        db.execute("""UPDATE sites SET applied_site = '{"id": 1}'""")
    result = onenet("import", "--site", "lab", "--out", "i.yaml")
    assert result.code == 1
    assert result.err == (
        "Error: the sandbox .onenet/sandbox.db holds site settings it cannot read: site lab: "
        "applied_site: missing key 'name'; apply the site file again to replace them\n"
    ), result.err
    assert not (lab / "i.yaml").exists()


def test_an_older_sandbox_file_is_migrated_and_keeps_from_its_next_apply(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "lab.yaml").write_text(LAB, "utf-8")
    path = workdir / ".onenet" / "sandbox.db"
    path.unlink()
    with monkeypatch.context() as old:  # the file as the version before wrote it
        old.setattr(store, "MIGRATIONS", store.MIGRATIONS[:2])
        old.setattr(store, "SCHEMA_VERSION", 2)
        SandboxBackend(path).configure("lab", activation="immediate")
    backend = SandboxBackend(path)
    assert backend.kept_site("lab") is None
    backend.close()
    assert onenet("apply", "lab.yaml", "--yes").code in (0, 3)
    assert "\n  name: Labor Köln\n" in onenet("import", "--site", "lab").out


def header_of(text: str) -> str:
    """The header after the modeline, its comment lines (88 characters at most) joined."""
    lines = [line for line in text.splitlines()[1:] if line.startswith("#")]
    assert all(len(line) <= 88 for line in lines), lines
    return " ".join(line[2:] for line in lines)


def validate_file_text(text: str, directory: Path) -> Any:
    path = directory / "check.yaml"
    path.write_text(text, "utf-8")
    spec = validate_file(str(path)).spec
    path.unlink()
    assert spec is not None
    return spec


def assert_schema_order(value: Any, fragment: dict[str, Any], schema: dict[str, Any]) -> None:
    """Every mapping's keys in the order its schema fragment lists them."""
    ref = fragment.get("$ref", "")
    if ref.startswith("#/$defs/"):
        fragment = schema["$defs"][ref.removeprefix("#/$defs/")]
    if not isinstance(value, dict):
        return
    known = list(fragment.get("properties", {}))
    listed = [k for k in value if k in known]
    assert listed == sorted(listed, key=known.index), listed
    for key, item in value.items():
        other = fragment.get("additionalProperties")
        sub = fragment.get("properties", {}).get(key) or (other if isinstance(other, dict) else {})
        assert_schema_order(item, sub, schema)


TRICKY = [
    "Sales: EMEA",
    "#1 Team",
    "Team #2",
    "O'Brien",
    "yes",
    "Null",
    "1:30",
    "010",
    "1_000",
    "0x10",
    "2026-01-01",
    "- dash",
    "a, b",
    "[x]",
    "{y}",
    '"quoted"',
    "back\\slash",
    "* star",
    "& amp",
    "!tag",
    "%pct",
    "@at",
    "`tick",
    "?q",
    "|pipe",
    ">gt",
    "Ünïcødé Straße",
    "42",
]


@pytest.mark.parametrize("name", TRICKY)
def test_a_name_yaml_would_misread_is_quoted_and_reads_back_exactly(name: str) -> None:
    """Plain where YAML reads the text back as itself, double quotes elsewhere."""
    document = {
        "version": 1,
        "site": {"id": "s", "name": name, "country": "DE"},
        "users": {
            "ada": {"first_name": "Ada", "last_name": name, "number": "+4930123401"},
        },
        "call_pickup_groups": {"floor": {"name": name, "members": ["ada"]}},
    }
    document["users"]["ada"]["package"] = "standard"
    text = render_site_file(document, [f"header {name}"])
    assert "'" not in text.replace("O'Brien", "")
    spec = validate_text(text, "tricky.yaml", default_catalogue()).spec
    assert spec is not None
    assert (spec.site.name, spec.users["ada"].last_name) == (name, name)
    assert spec.call_pickup_groups["floor"].name == name


def test_a_seeded_site_keeps_its_settings_as_an_apply_does(onenet, workdir: Path) -> None:
    spec = validate_file(str(EXAMPLE)).spec
    assert spec is not None
    SandboxBackend(workdir / ".onenet" / "sandbox.db").seed(spec)
    spec_text = onenet("import", "--site", "berlin-hq").out
    assert validate_file_text(spec_text, workdir).site == spec.site


@settings(max_examples=scaled(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=sites())
def test_random_sites_with_their_settings_kept_round_trip(desired: SiteSpec) -> None:
    """Pools, unmanaged patterns and short licences of random sites: the imported file
    holds the kept settings, validates, and plans to no changes."""
    with tempfile.TemporaryDirectory() as tmp:
        backend = SandboxBackend(Path(tmp) / "sandbox.db")
        if applied_and_activated(backend, desired):
            backend.keep_site(desired.site)
            spec = round_trip(backend, SITE, Path(tmp))
            assert replace(spec.site, licences=desired.site.licences) == desired.site
        backend.close()
