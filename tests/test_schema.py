"""The published JSON Schema and the compiled checks that enforce it.

`onenet validate` enforces the schema through compiled closures (for speed and
friendly messages); jsonschema is the reference. These tests prove that the two
give the same verdict, on every fixture and on randomly damaged sites.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from onenet_apply.sitefile.loader import load_site_file
from onenet_apply.sitefile.schema import (
    SchemaCompileError,
    compile_schema,
    site_checker,
    site_schema,
)
from tests.conftest import EXAMPLE, FIXTURES, ROOT, scaled

PUBLISHED = ROOT / "schemas" / "site.schema.json"
# the reference is the schema editors and users read, not the package's copy of it
REFERENCE = jsonschema.Draft202012Validator(json.loads(PUBLISHED.read_text("utf-8")))


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(site_schema())
    assert site_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_published_schema_is_the_one_the_package_enforces() -> None:
    """schemas/site.schema.json is the packaged file itself (a link, so the two cannot
    drift apart), the package reads that file, and the compiled checks agree with
    jsonschema running the published file on every fixture (below)."""
    packaged = Path(str(resources.files("onenet_apply").joinpath("data/site.schema.json")))
    assert PUBLISHED.resolve() == packaged.resolve() == ROOT / "onenet_apply/data/site.schema.json"
    assert json.loads(PUBLISHED.read_text("utf-8")) == site_schema()


def test_every_property_has_a_description() -> None:
    missing: list[str] = []

    def walk(node: Any, where: str) -> None:
        if not isinstance(node, dict):
            return
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub:
                missing.append(f"{where}.{name}")
            walk(sub, f"{where}.{name}")
        for key in ("items", "additionalProperties"):
            walk(node.get(key), f"{where}.{key}")
        for name, sub in node.get("$defs", {}).items():
            walk(sub, f"$defs.{name}")

    walk(site_schema(), "")
    assert missing == []


def test_numbers_and_extensions_are_strings_in_the_schema() -> None:
    defs = site_schema()["$defs"]
    assert defs["phone_number"]["type"] == "string"
    assert defs["extension"]["type"] == "string"


def test_example_carries_the_schema_modeline() -> None:
    first = EXAMPLE.read_text("utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/site.schema.json"


def test_unsupported_keywords_fail_to_compile() -> None:
    with pytest.raises(SchemaCompileError, match="oneOf"):
        compile_schema({"type": "object", "oneOf": [{"type": "string"}]})


# keywords the compiler supports but the site schema does not use (yet): a future
# schema that uses them must be enforced as jsonschema enforces them
@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "number"}, 1.5),
        ({"type": "number"}, 2),
        ({"type": "number"}, "2"),
        ({"type": "number"}, True),
        ({"type": "array"}, ["a", "a"]),
        ({"type": "array", "uniqueItems": True}, ["a", "a"]),
        ({"type": "array", "uniqueItems": True}, [1, True]),
        ({"type": "null"}, None),
        ({"type": "null"}, 0),
    ],
    ids=repr,
)
def test_compiled_checks_agree_with_jsonschema_on_other_keywords(schema: Any, value: Any) -> None:
    reference = jsonschema.Draft202012Validator(schema)
    assert (not compile_schema(schema)(value)) == reference.is_valid(value)


@pytest.mark.parametrize(
    ("bounds", "value", "message"),
    [
        ({"minimum": 1, "maximum": 5}, 0, "must be between 1 and 5, not 0"),
        ({"minimum": 1}, 0, "must be at least 1, not 0"),
        ({"maximum": 5}, 6, "must be at most 5, not 6"),
    ],
)
def test_a_number_out_of_range_is_told_its_bounds(bounds: Any, value: int, message: str) -> None:
    [violation] = compile_schema({"type": "integer", **bounds})(value) or []
    assert violation.message == message


def loaded_fixtures() -> list[tuple[str, Any]]:
    out = []
    paths = [*sorted(FIXTURES.rglob("*.yaml")), EXAMPLE]
    for path in paths:
        loaded = load_site_file(str(path))
        if loaded.data is not None and not loaded.problems.items:
            out.append((path.name, loaded.data))
    return out


FIXTURE_DATA = loaded_fixtures()


@pytest.mark.parametrize("name,data", FIXTURE_DATA, ids=lambda v: v if isinstance(v, str) else "")
def test_compiled_checks_agree_with_jsonschema_on_fixtures(name: str, data: Any) -> None:
    assert (not site_checker()(data)) == REFERENCE.is_valid(data)


def test_the_fixtures_hold_both_verdicts() -> None:
    """The agreement above means something only if some fixtures break the schema."""
    verdicts = {REFERENCE.is_valid(data) for _, data in FIXTURE_DATA}
    assert verdicts == {True, False}


# -- random damage ----------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.text(max_size=40),
    # integral floats are excluded: JSON Schema counts 4.0 as an integer, while
    # site files must write whole numbers as such (a deliberate, documented rule)
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    st.sampled_from(
        [
            "standard",
            "weighted",
            "basic",
            "active",
            "deactivated",
            "030 12345601",
            "1234",
            "anna",
            "hears-number",
            "DE",
            "x" * 31,
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=6,
)
BASE = load_site_file(str(EXAMPLE)).data


def all_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            paths += all_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            paths += all_paths(v, (*prefix, i))
    return paths


PATHS = all_paths(BASE)


@st.composite
def damaged_sites(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        if not path:
            continue
        parent = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(json_values)
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(max_size=12))] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    return doc


@settings(max_examples=scaled(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_sites())
def test_compiled_checks_agree_with_jsonschema_on_damaged_sites(doc: Any) -> None:
    assert (not site_checker()(doc)) == REFERENCE.is_valid(doc)


def test_damage_finds_both_verdicts() -> None:
    """Guard: the strategy itself must produce documents both checkers refuse and
    documents both accept, or the agreement test above compares only one verdict."""
    assert REFERENCE.is_valid(BASE)
    search = settings(max_examples=200, database=None, derandomize=True)
    refused = find(damaged_sites(), lambda d: not REFERENCE.is_valid(d), settings=search)
    assert site_checker()(refused)
    accepted = find(damaged_sites(), lambda d: d != BASE and REFERENCE.is_valid(d), settings=search)
    assert not site_checker()(accepted)
