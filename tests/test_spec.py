"""What validation hands the planner: a typed, immutable, normalised SiteSpec."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from onenet_apply.model.spec import Deactivation, Mobile, SiteSpec
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE

HEAD = "version: 1\nsite: {id: t, name: T, country: DE%s}\n"


def spec_of(tmp_path: Path, body: str, site_extra: str = "") -> SiteSpec:
    path = tmp_path / "site.yaml"
    path.write_text(HEAD % site_extra + body, "utf-8")
    result = validate_file(str(path))
    assert result.spec is not None, [p.format() for p in result.problems]
    return result.spec


def user(uid: str, number: str, extra: str = "") -> str:
    return (
        f'  {uid}: {{first_name: A, last_name: B, number: "{number}", package: standard{extra}}}\n'
    )


def test_example_spec() -> None:
    spec = validate_file(str(EXAMPLE)).spec
    assert spec is not None
    anna = spec.users["anna"]
    assert (anna.number, anna.extension, anna.username) == ("+493012345601", "5601", "anna.schmidt")
    assert spec.users["carla"].mobile == Mobile("+491721234567", "4711-0815")
    assert spec.users["karl"].deactivation == Deactivation("+493012345606", "presses-key")
    assert spec.users["frieda"].extension == "1006"
    assert dict(spec.hunt_groups["service-desk"].weights) == {"hanna": 50, "ivan": 25, "jana": 25}
    assert spec.hunt_groups["sales"].no_answer.forward_to == "+493012345606"
    assert spec.call_park_groups["reception"].members == ("frieda", "carla", "anna")


def test_defaults(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, "users:\n" + user("anna", "030 12345601"))
    anna = spec.users["anna"]
    assert anna.username == "anna"  # defaults to the id
    assert anna.extension == "5601"  # last four digits of the number
    assert (anna.desk_phone, anna.status, anna.options, anna.mobile) == ("none", "active", (), None)
    assert spec.site.extension_length == 4
    assert (spec.site.policy.allow_delete, spec.site.policy.max_change_percent) == (False, 30)


def test_extension_default_follows_extension_length(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, "users:\n" + user("anna", "030 12345601"), ", extension_length: 6")
    assert spec.users["anna"].extension == "345601"


def test_extension_default_collision_is_avoided_by_a_longer_extension(tmp_path: Path) -> None:
    body = "users:\n" + user("anna", "030 12345601") + user("ben", "030 12355601")
    path = tmp_path / "site.yaml"
    path.write_text(HEAD % "" + body)
    assert not validate_file(str(path)).ok  # 5601 twice (docs/edge-cases.md #8)
    spec = spec_of(tmp_path, body, ", extension_length: 6")
    assert (spec.users["anna"].extension, spec.users["ben"].extension) == ("345601", "355601")


def test_names_count_characters_not_bytes(tmp_path: Path) -> None:
    first = "Jürgen-Björn Öğretmenç"  # 22 characters, 27 bytes in UTF-8
    assert len(first) == 22 and len(first.encode()) > 23
    spec = spec_of(
        tmp_path,
        "users:\n" + user("j", "030 12345601").replace("first_name: A", f"first_name: {first}"),
    )
    assert spec.users["j"].first_name == first


def test_spec_is_immutable() -> None:
    spec = validate_file(str(EXAMPLE)).spec
    assert spec is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.users["anna"].number = "+4930999"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.users["zoe"] = spec.users["anna"]  # type: ignore[index]


def test_numbers_are_unique_across_forms(tmp_path: Path) -> None:
    # the same number in national and E.164 form is still the same number
    path = tmp_path / "site.yaml"
    path.write_text(
        HEAD % ""
        + "users:\n"
        + user("anna", "030 12345601")
        + user("ben", "+49 30 12345601", ', extension: "9999"')
    )
    [problem] = validate_file(str(path)).problems
    assert problem.message.startswith("number +493012345601 is already used by users.anna")
