"""model/fields.py: the flat field dictionaries the planner diffs and actions carry.

A user's or group's record and its flat fields say the same thing: every field of
the record is in them (a field left out would never be planned or written), nothing
else is, and the values are plain JSON, so the plan file and the backend read them
as they are.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from onenet_apply.model.fields import (
    GROUP_LISTS,
    GROUP_SETTINGS,
    Group,
    deactivation_fields,
    group_fields,
    user_fields,
)
from onenet_apply.model.spec import (
    CallCentre,
    CallParkGroup,
    CallPickupGroup,
    Deactivation,
    HuntGroup,
    Mobile,
    NoAnswer,
    SiteSpec,
    User,
    frozen_map,
)
from onenet_apply.model.vocabulary import CONFIG, DEACTIVATION, PROFILE, SECTION_OF
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE, scaled
from tests.planner_strategies import sites

RECORDS: dict[str, type] = {
    "hunt_group": HuntGroup,
    "call_centre": CallCentre,
    "call_pickup_group": CallPickupGroup,
    "call_park_group": CallParkGroup,
}


def user_from(uid: str, f: dict[str, Any], deactivation: dict[str, Any] | None) -> User:
    """The record the flat fields describe (read independently of fields.py)."""
    return User(
        id=uid,
        first_name=f["first_name"],
        last_name=f["last_name"],
        username=f["username"],
        number=f["number"],
        extension=f["extension"],
        package=f["package"],
        email=f["email"],
        options=tuple(f["options"]),
        services=tuple(f["services"]),
        desk_phone=f["desk_phone"],
        mobile=Mobile(**f["mobile"]) if f["mobile"] else None,
        status="deactivated" if deactivation else "active",
        deactivation=Deactivation(**deactivation) if deactivation else None,
    )


def group_from(group_type: str, gid: str, f: dict[str, Any]) -> Group:
    values = dict(f)
    for role in ("members", "agents", "supervisors"):
        if role in values:
            values[role] = tuple(values[role])
    if "weights" in values:
        values["weights"] = frozen_map(values["weights"])
    if values.get("no_answer") is not None:
        values["no_answer"] = NoAnswer(**values["no_answer"])
    return RECORDS[group_type](id=gid, **values)


def plain_json(value: Any) -> bool:
    return json.loads(json.dumps(value)) == value


def check_round_trip(spec: SiteSpec) -> None:
    for uid, user in spec.users.items():
        f = user_fields(user)
        assert list(f) and set(f) == set(PROFILE) | set(CONFIG), uid
        off = deactivation_fields(user)
        assert user_from(uid, f, off) == user, uid
        assert plain_json(f) and plain_json(off), uid
    for group_type, section in SECTION_OF.items():
        if group_type == "user":
            continue
        for gid, group in getattr(spec, section).items():
            f = group_fields(group_type, group)
            assert set(f) == set(GROUP_SETTINGS[group_type]) | set(GROUP_LISTS[group_type])
            assert group_from(group_type, gid, f) == group, f"{group_type}/{gid}"
            assert plain_json(f), f"{group_type}/{gid}"


def test_every_record_of_the_example_round_trips() -> None:
    spec = validate_file(str(EXAMPLE)).spec
    assert spec is not None
    check_round_trip(spec)


@settings(max_examples=scaled(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites())
def test_every_record_of_a_random_site_round_trips(spec: SiteSpec) -> None:
    check_round_trip(spec)


def test_profile_configuration_and_deactivation_are_every_user_field_once() -> None:
    """What an update carries: each field of a user in exactly one of them, and the id
    in none (a user's id never changes)."""
    carried = [*PROFILE, *CONFIG, *DEACTIVATION]
    assert len(carried) == len(set(carried))
    assert {"id", *carried} == set(User.__dataclass_fields__)


def test_deactivation_fields_are_the_deactivation_or_none() -> None:
    anna = User("anna", "Anna", "X", "anna", "+493012345601", "5601", "standard")
    assert deactivation_fields(anna) is None
    assert user_fields(anna)["mobile"] is None
    off = Deactivation(transfer_to="+493012345606", caller="hears-number")
    gone = User("karl", "K", "X", "karl", "+493012345602", "5602", "standard", deactivation=off)
    assert deactivation_fields(gone) == {"transfer_to": "+493012345606", "caller": "hears-number"}


def test_weights_are_sorted_by_member_whatever_their_order_in_the_record() -> None:
    """Two records with the same weights give the same fields (the diff sees no change)."""
    one = HuntGroup(
        "h", "H", "+493012345650", "5650", "weighted", ("a", "b"), frozen_map({"b": 40, "a": 60})
    )
    two = HuntGroup(
        "h", "H", "+493012345650", "5650", "weighted", ("a", "b"), frozen_map({"a": 60, "b": 40})
    )
    assert list(group_fields("hunt_group", one)["weights"]) == ["a", "b"]
    assert json.dumps(group_fields("hunt_group", one)) == json.dumps(
        group_fields("hunt_group", two)
    )


def test_the_fields_are_copies_the_record_does_not_share() -> None:
    """An action may be edited (a saved plan read back) without touching the spec."""
    user = User(
        "anna", "A", "X", "anna", "+493012345601", "5601", "standard", services=("voicemail",)
    )
    f = user_fields(user)
    f["services"].append("x")
    assert user.services == ("voicemail",)
    group = CallPickupGroup("p", "P", ("anna",))
    g = group_fields("call_pickup_group", group)
    g["members"].append("ben")
    assert group.members == ("anna",)
