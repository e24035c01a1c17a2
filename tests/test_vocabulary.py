"""The group-type table agrees with every other place a group type appears: the
spec's records, the state's sections, the flat fields and the JSON Schema. A new
group type that is added in one place and not the others fails here."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources

import pytest

from onenet_apply.model import spec
from onenet_apply.model.fields import GROUP_LISTS, GROUP_SETTINGS, group_fields
from onenet_apply.model.state import SiteState
from onenet_apply.model.vocabulary import (
    ACTIVATED_GROUP_TYPES,
    ALL_ROLES,
    GROUPS,
    LABEL_OF,
    ONE_PER_USER_TYPES,
    SECTION_OF,
    TYPE_OF_SECTION,
)

RECORDS = {
    "hunt_group": spec.HuntGroup,
    "call_centre": spec.CallCentre,
    "call_pickup_group": spec.CallPickupGroup,
    "call_park_group": spec.CallParkGroup,
}


def _schema() -> dict:
    text = resources.files("onenet_apply").joinpath("data/site.schema.json").read_text("utf-8")
    return json.loads(text)


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_each_group_record_holds_exactly_the_columns_of_its_row(name: str) -> None:
    group = GROUPS[name]
    numbered = ("number", "extension") if group.numbered else ()
    expected = {"id", "name", *numbered, *group.settings, *group.lists}
    assert {f.name for f in dataclasses.fields(RECORDS[name])} == expected


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_the_flat_fields_of_a_group_are_its_settings_and_lists(name: str) -> None:
    record = RECORDS[name]
    required = {
        f.name: "x"
        for f in dataclasses.fields(record)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    fields = group_fields(name, record(**required))
    assert set(fields) == set(GROUP_SETTINGS[name]) | set(GROUP_LISTS[name])


def test_sections_are_those_of_the_spec_the_state_and_the_schema() -> None:
    sections = set(SECTION_OF.values())
    assert sections == {f.name for f in dataclasses.fields(spec.SiteSpec)} - {"site"}
    assert sections <= {f.name for f in dataclasses.fields(SiteState)}
    assert sections == set(_schema()["properties"]) - {"version", "site"}
    assert set(GROUPS) <= set(_schema()["$defs"])
    assert {TYPE_OF_SECTION[s] for s in sections} == set(SECTION_OF)


def test_the_columns_say_what_the_platform_says() -> None:
    """docs/domain.md: hunt groups and call centres have numbers and are activated;
    a user is in at most one pickup group and one park group."""
    assert ACTIVATED_GROUP_TYPES == ("hunt_group", "call_centre")
    assert ONE_PER_USER_TYPES == ("call_pickup_group", "call_park_group")
    assert GROUPS["hunt_group"].lists == ("members", "weights")
    assert ALL_ROLES == ("members", "agents", "supervisors")
    assert LABEL_OF["call_pickup_group"] == "call pickup group"
