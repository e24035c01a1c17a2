"""Users over OCI-P: every user action kind, applied by the real applier through the
OCI-P backend to the loopback peer, reads back exactly as the sandbox itself
reports the same file, and plans no further change; login details verify."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from onenet_apply.apply.applier import apply_site
from onenet_apply.backends.base import Credential
from onenet_apply.backends.ocip import codec
from onenet_apply.model.spec import SiteSpec
from onenet_apply.model.state import Lifecycle
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.sitefile.validate import validate_file
from tests.ocip_kit import DocumentTap
from tests.ocip_users_kit import Loop, loop, same_users

SITE = "berlin"
BASE: dict[str, Any] = {
    "version": 1,
    "site": {
        "id": SITE,
        "name": "Berlin",
        "country": "DE",
        "policy": {"allow_delete": True, "max_change_percent": 100},
    },
    "users": {
        "anna": {
            "first_name": "Anna",
            "last_name": "Schmidt",
            "username": "anna.schmidt",
            "email": "anna@example.com",
            "number": "030 12345601",
            "package": "professional",
            "options": ["call-centre-standard"],
            "services": ["voicemail", "supervisor"],
            "desk_phone": "yealink-t54w",
        },
        "ben": {
            "first_name": "Ben",
            "last_name": "Müller",
            "number": "+493012345602",
            "package": "standard",
            "services": ["voicemail"],
            "desk_phone": "none",
            "mobile": {"number": "0172 1234567", "contract": "4711-0815"},
        },
        "carla": {
            "first_name": "Carla",
            "last_name": "Weber",
            "number": "030 12345603",
            "extension": "3003",
            "package": "standard",
            "desk_phone": "cisco-8841",
        },
    },
}


def spec_of(tmp_path: Path, site: dict[str, Any], name: str = "site.yaml") -> SiteSpec:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(site, allow_unicode=True))
    result = validate_file(str(path))
    assert result.spec is not None, [p.format() for p in result.problems]
    return result.spec


def apply(kit: Loop, spec: SiteSpec, issued: list[Credential]) -> None:
    report = apply_site(kit.backend, spec, PlanOptions(), issued.extend, locks=kit.sandbox)
    assert report.failed == [], report.failed


def converged(kit: Loop, spec: SiteSpec) -> None:
    """OCI-P reads what the sandbox holds, and planning again changes nothing."""
    ocip, sandbox = same_users(kit, SITE)
    assert ocip == sandbox
    assert plan(
        spec, kit.backend.read_state(SITE), PlanOptions(), catalogue=kit.backend.catalogue()
    ).empty


@pytest.fixture
def kit(tmp_path: Path, sent_documents: DocumentTap) -> Loop:
    return loop(tmp_path, taps=[sent_documents])


def test_new_users_apply_over_ocip_pending_then_activated(kit: Loop, tmp_path: Path) -> None:
    issued: list[Credential] = []
    spec = spec_of(tmp_path, BASE)
    apply(kit, spec, issued)
    ocip, sandbox = same_users(kit, SITE)
    assert ocip == sandbox and set(ocip) == {"anna", "ben", "carla"}
    assert {c.lifecycle for c in ocip.values()} == {Lifecycle.PENDING}
    assert sorted(c.user_id for c in issued) == ["anna", "carla"]
    for credential in issued:
        assert kit.sandbox.verify_login(SITE, credential.user_id, credential.password)
    assert issued[0].login_username == "anna.schmidt.5601"
    kit.sandbox.activate(SITE)
    converged(kit, spec)
    assert {c.lifecycle for c in same_users(kit, SITE)[0].values()} == {Lifecycle.ACTIVATED}


def edit(site: dict[str, Any], user: str, **fields: Any) -> dict[str, Any]:
    edited = copy.deepcopy(site)
    for name, value in fields.items():
        if value is None:
            edited["users"][user].pop(name, None)
        else:
            edited["users"][user][name] = value
    return edited


STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("profile", "anna", {"first_name": "Annabel", "email": None, "services": ["voicemail"]}),
    ("profile", "ben", {"services": ["voicemail", "call-forwarding"]}),
    ("username", "anna", {"username": "annabel"}),
    ("username back to the id", "anna", {"username": None}),
    ("number and extension", "carla", {"number": "030 12345609", "extension": "3009"}),
    ("package and options", "ben", {"package": "professional", "options": ["receptionist"]}),
    ("options dropped", "ben", {"options": None}),
    ("mobile", "ben", {"mobile": {"number": "0172 7654321", "contract": "B-2"}}),
    ("mobile dropped", "ben", {"mobile": None}),
    ("mobile added", "carla", {"mobile": {"number": "0172 1111111", "contract": "C 3"}}),
    ("new desk phone", "anna", {"desk_phone": "yealink-t46u"}),
    ("desk phone dropped", "carla", {"desk_phone": "none"}),
    ("desk phone added", "ben", {"desk_phone": "gigaset-n870"}),
    ("deactivated, hears the number", "anna",
     {"status": "deactivated", "deactivation": {"transfer_to": "+4930999", "caller": "hears-number"}}),
    ("deactivated, presses a key", "anna",
     {"status": "deactivated", "deactivation": {"transfer_to": "+4930888", "caller": "presses-key"}}),
    ("announcement only", "anna", {"status": "deactivated", "deactivation": None}),
    ("reactivated", "anna", {"status": None}),
    ("deactivated at once", "carla", {"status": "deactivated"}),
]  # fmt: skip


def test_every_user_action_kind_round_trips_over_ocip(kit: Loop, tmp_path: Path) -> None:
    issued: list[Credential] = []
    site = BASE
    apply(kit, spec_of(tmp_path, site), issued)
    kit.sandbox.activate(SITE)
    for n, (what, user, fields) in enumerate(STEPS):
        site = edit(site, user, **fields)
        spec = spec_of(tmp_path, site, f"step{n}.yaml")
        before = len(issued)
        apply(kit, spec, issued)
        ocip, sandbox = same_users(kit, SITE)
        assert ocip == sandbox, what
        assert plan(
            spec, kit.backend.read_state(SITE), PlanOptions(), catalogue=kit.backend.catalogue()
        ).empty, what
        for credential in issued[before:]:
            assert kit.sandbox.verify_login(SITE, credential.user_id, credential.password), what
    assert [c.user_id for c in issued[2:]] == ["anna", "ben"]  # the two new desk phones
    assert same_users(kit, SITE)[0]["carla"].lifecycle is Lifecycle.DEACTIVATED
    del site["users"]["carla"]
    apply(kit, spec_of(tmp_path, site, "deleted.yaml"), issued)
    ocip, sandbox = same_users(kit, SITE)
    assert ocip == sandbox and "carla" not in ocip


def test_a_failed_activation_reads_as_pending(kit: Loop, tmp_path: Path) -> None:
    """OCI-P has no failed: a number not activated is all BroadWorks shows."""
    apply(kit, spec_of(tmp_path, BASE), [])
    kit.sandbox.fail(SITE, ["ben"])
    ocip, sandbox = same_users(kit, SITE)
    assert sandbox["ben"].lifecycle is Lifecycle.FAILED
    assert ocip["ben"].lifecycle is Lifecycle.PENDING
    assert ocip["ben"].item == sandbox["ben"].item


def test_a_site_the_sandbox_lacks_is_an_empty_site_and_created_by_the_first_write(
    kit: Loop, tmp_path: Path
) -> None:
    assert not kit.backend.read_state(SITE).exists
    apply(kit, spec_of(tmp_path, BASE), [])
    assert kit.sandbox.sites() == [SITE]
    assert kit.backend.site(SITE).domain == "berlin.sandbox.invalid"


def test_the_example_sites_users_apply_over_ocip_and_converge(kit: Loop, tmp_path: Path) -> None:
    """examples/site.yaml's users (its groups are another half's), through the applier."""
    example = yaml.safe_load(Path("examples/site.yaml").read_text("utf-8"))
    site = {"version": 1, "site": {**example["site"], "id": SITE}, "users": example["users"]}
    site["site"]["policy"] = {"allow_delete": False, "max_change_percent": 100}
    spec = spec_of(tmp_path, site)
    issued: list[Credential] = []
    apply(kit, spec, issued)
    kit.sandbox.activate(SITE)
    apply(kit, spec, issued)  # what waited for the activation (a deactivation)
    converged(kit, spec)
    assert len(issued) == sum(u.desk_phone != "none" for u in spec.users.values())
    for credential in issued:
        assert kit.sandbox.verify_login(SITE, credential.user_id, credential.password)
    assert max(len(codec.decode(d).commands) for d in kit.sent) <= 15  # the schema's limit
