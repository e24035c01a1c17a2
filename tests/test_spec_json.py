"""The SiteSpec's plain JSON form reads back as the same SiteSpec, and nothing else
does; a saved plan reads back as a plan that apply derives again exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.digest import plain, spec_digest
from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.savedplan import plan_file, spec_check
from onenet_apply.savedplan.saved_check import runnable
from onenet_apply.savedplan.spec_json import SpecJsonError, spec_from_json
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE, FIXTURES, scaled
from tests.planner_kit import state_of
from tests.test_planner_properties import sites


def round_trip(spec: SiteSpec) -> SiteSpec:
    return spec_from_json(json.loads(json.dumps(plain(spec))))


@pytest.mark.parametrize(
    "path",
    [EXAMPLE, *sorted((FIXTURES / "valid").glob("*.yaml"))],
    ids=lambda p: p.name,
)
def test_valid_sites_read_back_as_themselves(path) -> None:
    spec = validate_file(str(path)).spec
    assert spec is not None
    again = round_trip(spec)
    assert again == spec
    assert spec_digest(again) == spec_digest(spec)
    assert plain(again) == plain(spec)
    assert spec_check.problem(spec, default_catalogue()) is None


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites())
def test_random_sites_read_back_as_themselves(spec: SiteSpec) -> None:
    assert round_trip(spec) == spec
    assert spec_check.problem(spec, default_catalogue()) is None  # and as a site file


def example() -> dict[str, Any]:
    return json.loads(json.dumps(plain(validate_file(str(EXAMPLE)).spec)))


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda d: d["users"]["anna"].update(nickname="A"), "spec.users.anna: unknown key"),
        (lambda d: d["users"]["anna"].pop("email"), "spec.users.anna: missing key 'email'"),
        (lambda d: d["site"].update(extension_length=True), "site.extension_length: expected int"),
        (lambda d: d["site"].update(number_pool="+49"), "spec.site.number_pool: expected a list"),
        (lambda d: d["users"]["anna"].update(mobile=5), "users.anna.mobile: expected an object"),
        (lambda d: d["hunt_groups"].update(x=[]), "spec.hunt_groups.x: expected an object"),
        (lambda d: d["site"]["licences"].update(standard="6"), "licences.standard: expected int"),
    ],
)
def test_anything_else_is_refused_with_its_path(edit: Any, message: str) -> None:
    document = example()
    edit(document)
    with pytest.raises(SpecJsonError, match=message):
        spec_from_json(document)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(SpecJsonError, match="spec: expected an object, got None"):
        spec_from_json(None)


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites(), sites(), st.booleans())
def test_a_saved_plan_of_any_site_is_what_apply_derives_again(
    desired: SiteSpec, built: SiteSpec, allow_delete: bool
) -> None:
    """Saved, read back and planned again against the same state, a plan runs exactly
    its own ready actions, in its own order: no false alarm of tampering."""
    activated = {
        uid: "deactivated" if user.status == "deactivated" else "activated"
        for uid, user in list(built.users.items())[::2]
    }
    state = state_of(built, "pending", **activated)  # half of them still pending
    options = PlanOptions(allow_delete=allow_delete)
    made = plan(desired, state, options, catalogue=default_catalogue())
    document = json.loads(json.dumps(plan_file.document(made, desired, options)))
    saved = plan_file.saved_from_document(document, "plan.json")
    assert saved.plan == made and saved.spec == desired and saved.options == options
    again = plan(saved.spec, state, saved.options, catalogue=default_catalogue())
    assert runnable(saved.plan, again, state) == made.ready


def test_a_platform_id_is_kept_and_left_out_when_none() -> None:
    document = example()
    assert "platform_id" not in document["site"]  # saved plans of other sites unchanged
    document["site"]["platform_id"] = "BER-HQ-01"
    spec = spec_from_json(document)
    assert spec.site.platform_id == "BER-HQ-01"
    assert plain(spec) == document
    assert spec_check.problem(spec, default_catalogue()) is None
    document["site"]["platform_id"] = "BER HQ"
    why = spec_check.problem(spec_from_json(document), default_catalogue())
    assert why is not None and why.startswith("site.platform_id: must start with a letter")
