"""model/digest.py: a digest depends on content only.

A saved plan carries the digests of the spec and the state it was made from, and
apply refuses a plan whose digests no longer match. So a digest must be the same
in every process (no hash seed, no dict order, no formatting of the site file) and
must differ when any field of any user, group, site or lifecycle state differs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from onenet_apply.model.digest import json_digest, plain, spec_digest, state_digest
from onenet_apply.model.spec import SiteSpec, frozen_map
from onenet_apply.model.state import Lifecycle, SiteState
from onenet_apply.model.vocabulary import SECTION_OF
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE, ROOT
from tests.planner_kit import spec_of, state_of


def example() -> SiteSpec:
    spec = validate_file(str(EXAMPLE)).spec
    assert spec is not None
    return spec


def changed(value: Any) -> Any:
    """Another value of the same shape: every leaf of a record can be changed."""
    if value is None:
        return "x"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, tuple):
        return (*value, "x")
    if isinstance(value, Mapping):
        return frozen_map({**value, "x": 1})
    first = dataclasses.fields(value)[0].name
    return dataclasses.replace(value, **{first: changed(getattr(value, first))})


def every_one_field_change(spec: SiteSpec) -> Iterator[tuple[str, SiteSpec]]:
    """The spec with exactly one field of the site, a user or a group changed."""
    site = spec.site
    for f in dataclasses.fields(site):
        new_site = dataclasses.replace(site, **{f.name: changed(getattr(site, f.name))})
        yield f"site.{f.name}", dataclasses.replace(spec, site=new_site)
    for section in SECTION_OF.values():
        items = getattr(spec, section)
        for ident, item in items.items():
            for f in dataclasses.fields(item):
                new = dataclasses.replace(item, **{f.name: changed(getattr(item, f.name))})
                new_section = frozen_map({**items, ident: new})
                yield (
                    f"{section}.{ident}.{f.name}",
                    dataclasses.replace(spec, **{section: new_section}),
                )


def test_a_digest_is_sha256_of_the_canonical_json_text() -> None:
    """Sorted keys, no spaces, UTF-8 text as is: anyone can recompute it."""
    document = {"b": [1, "ü"], "a": {"d": None, "c": True}}
    text = '{"a":{"c":true,"d":null},"b":[1,"ü"]}'
    assert json_digest(document) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_the_order_of_mapping_keys_does_not_matter() -> None:
    assert json_digest({"a": 1, "b": {"x": 1, "y": 2}}) == json_digest(
        {"b": {"y": 2, "x": 1}, "a": 1}
    )
    spec = example()
    reordered = dataclasses.replace(
        spec,
        users=frozen_map(dict(reversed(spec.users.items()))),
        hunt_groups=frozen_map(dict(reversed(spec.hunt_groups.items()))),
    )
    assert list(reordered.users) != list(spec.users)
    assert spec_digest(reordered) == spec_digest(spec)


def test_the_order_of_a_list_matters() -> None:
    """A hunt group rings its members in order: a reordered list is a change."""
    spec = example()
    sales = spec.hunt_groups["sales"]
    turned = dataclasses.replace(sales, members=tuple(reversed(sales.members)))
    other = dataclasses.replace(spec, hunt_groups=frozen_map({**spec.hunt_groups, "sales": turned}))
    assert spec_digest(other) != spec_digest(spec)


def test_any_one_field_change_changes_the_spec_digest() -> None:
    spec = example()
    before = spec_digest(spec)
    seen = set()
    for where, other in every_one_field_change(spec):
        assert spec_digest(other) != before, where
        seen.add(where.split(".")[0])
    assert seen == {"site", *SECTION_OF.values()}  # the example has every section


def test_a_reformatted_site_file_has_the_same_digest() -> None:
    """Flow or block style, quoting, comments, key order and number spelling aside,
    the same site is the same digest."""
    block = (
        "version: 1\nsite:\n  id: t\n  name: T\n  country: DE\n"
        "users:\n  anna:\n    first_name: Anna\n    last_name: X\n"
        '    number: "030 12345601"\n    package: standard\n'
    )
    flow = (
        "# the same site\nsite: {country: DE, name: 'T', id: t}\nversion: 1\n"
        "users:\n  anna: {package: standard, number: '+493012345601', last_name: X,"
        " first_name: Anna}\n"
    )
    assert spec_digest(spec_of(block)) == spec_digest(spec_of(flow))
    assert spec_digest(spec_of(block)) != spec_digest(spec_of(block.replace("Anna", "Anne")))


def test_any_lifecycle_or_licence_change_changes_the_state_digest() -> None:
    spec = example()
    state = state_of(spec, "pending", karl="deactivated")
    before = state_digest(state)
    assert state_digest(state_of(spec, "pending", karl="deactivated")) == before
    assert state_digest(state_of(spec, "pending", anna="activated", karl="deactivated")) != before
    licensed = dataclasses.replace(state, licences=frozen_map({"standard": 6}))
    assert state_digest(licensed) != before
    assert state_digest(dataclasses.replace(state, exists=False)) != before
    assert state_digest(SiteState("t")) != state_digest(SiteState("u"))


def test_plain_turns_records_into_json_values() -> None:
    state = state_of(
        spec_of(
            "version: 1\nsite: {id: t, name: T, country: DE}\nusers:\n"
            "  anna: {first_name: A, last_name: X, number: '030 12345601', package: standard,"
            " services: [voicemail]}\n"
        )
    )
    anna = plain(state)["users"]["anna"]
    assert anna["lifecycle"] == "activated" and type(anna["lifecycle"]) is str
    assert anna["item"]["services"] == ["voicemail"]
    assert plain({1: Lifecycle.FAILED}) == {"1": "failed"}
    assert plain((2.5, "a", None, 0, True)) == [2.5, "a", None, 0, True]  # the rest as is


_IN_ANOTHER_PROCESS = """
import sys
from onenet_apply.model.digest import spec_digest, state_digest
from onenet_apply.sitefile.validate import validate_file
from tests.planner_kit import state_of
spec = validate_file(sys.argv[1]).spec
print(spec_digest(spec), state_digest(state_of(spec, "pending", karl="deactivated")))
"""


def test_digests_are_the_same_in_every_process_whatever_the_hash_seed() -> None:
    spec = example()
    here = f"{spec_digest(spec)} {state_digest(state_of(spec, 'pending', karl='deactivated'))}"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        there = subprocess.run(
            [sys.executable, "-c", _IN_ANOTHER_PROCESS, str(EXAMPLE)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        ).stdout.strip()
        assert there == here, f"PYTHONHASHSEED={seed}"


def test_empty_and_falsy_values_are_not_confused() -> None:
    values = (0, "", [], {}, None, False, "0", "null")
    assert len({json_digest(v) for v in values}) == len(values)


def test_digests_are_computed_only_for_a_plan_that_is_saved_or_printed_as_json(
    onenet, workdir, monkeypatch
) -> None:
    """On a large site the digests cost as much as planning: a text plan and the apply
    of a site file compute none; --format json and --out do, and print the same ones."""
    from onenet_apply.model import digest

    computed: list[str] = []
    real = digest._digest
    monkeypatch.setattr(digest, "_digest", lambda value: computed.append("") or real(value))
    assert onenet("plan", str(EXAMPLE)).code == 0
    assert onenet("plan", str(EXAMPLE), "--format", "markdown").code == 0
    assert onenet("apply", str(EXAMPLE), "--yes").code in (0, 3)
    assert computed == []
    printed = json.loads(onenet("plan", str(EXAMPLE), "--format", "json").out)
    assert len(computed) == 2  # the spec's and the state's
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0
    saved = json.loads((workdir / "plan.json").read_text())
    spec = validate_file(str(EXAMPLE)).spec
    assert printed["spec_digest"] == saved["spec_digest"] == spec_digest(spec)


def test_digests_are_computed_with_the_collector_paused() -> None:
    """Canonical JSON of a whole site is bulk, acyclic work: the cyclic collector would
    only rescan the heap for nothing (with a shared store, whose history records the
    digests, that cost an apply of 10,000 users a tenth of its time)."""
    import gc

    from onenet_apply.model.plan import Digests

    passes: list[str] = []
    during: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(phase)

    def busy() -> tuple[str, str]:  # allocates as a digest of a large site does
        before = len(passes)
        junk = [{"n": [i]} for i in range(200_000)]
        during.append(len(passes) - before)
        return (str(len(junk)), "")

    gc.callbacks.append(watch)
    try:
        assert gc.isenabled()
        Digests(busy).pair()
        busy()  # the same work outside: the collector runs
    finally:
        gc.callbacks.remove(watch)
    assert during[0] == 0 and during[1] > 0
