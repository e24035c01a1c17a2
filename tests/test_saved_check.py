"""Saved plans that are stale, forged or malformed, through the real CLI: each is one
clear error that names what is wrong, and changes nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from onenet_apply.model.plan import Kind
from tests.conftest import EXAMPLE
from tests.sandbox_kit import act
from tests.test_cli_apply import _Terminal
from tests.test_saved_plans import SITE, built, edit, sandbox, users


def first_names(workdir: Path) -> dict[str, str]:
    backend = sandbox(workdir)
    try:
        return {uid: u.item.first_name for uid, u in backend.read_state(SITE).users.items()}
    finally:
        backend.close()


def plan_renaming_emil(onenet, workdir: Path) -> Path:
    """On the built example, a reviewed plan that renames emil (in no group)."""
    built(onenet, workdir)
    renamed = workdir / "renamed.yaml"
    renamed.write_text(EXAMPLE.read_text().replace("first_name: Emil", "first_name: Emilio"))
    assert onenet("plan", str(renamed), "--out", "plan.json").code == 0
    return workdir / "plan.json"


def test_a_plan_whose_target_was_removed_meanwhile_is_stale_and_names_it(
    onenet, workdir: Path
) -> None:
    plan_renaming_emil(onenet, workdir)
    backend = sandbox(workdir)  # meanwhile, in the portal, emil is deleted
    backend.execute(SITE, act(Kind.DELETE, "user", "emil"))
    backend.close()
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert result.err.startswith(
        "Error: stale plan: site berlin-hq changed since the plan was made: "
        "user/emil is gone; run onenet plan again"
    ), result.err
    assert "emil" not in users(workdir)


def forged_reason(document: dict[str, Any]) -> None:
    document["actions"][0]["notes"] = ["reviewed by nobody"]


def swapped_actions(document: dict[str, Any]) -> None:
    actions = document["actions"]
    actions[0], actions[1] = actions[1], actions[0]


@pytest.mark.parametrize(
    ("forge", "named"),
    [
        (forged_reason, "user/anna/create differs in its reason, needs, follows or notes"),
        (swapped_actions, "the plan's order, warnings or digests differ"),
    ],
)
def test_a_forgery_that_keeps_every_change_is_still_tampering(
    onenet, workdir: Path, forge: Any, named: str
) -> None:
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0
    edit(workdir / "plan.json", forge, redigest=True)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert "plan.json: tampered plan: its actions are not what its own site content gives: " in (
        result.err
    )
    assert named in result.err
    assert users(workdir) == set()


def bad_options(document: dict[str, Any]) -> None:
    document["options"] = {"allow_delete": "yes", "force": False}


def users_as_a_list(document: dict[str, Any]) -> None:
    document["spec"]["users"] = ["anna"]


def another_kind(document: dict[str, Any]) -> None:
    document.pop("kind")
    document["kind"] = "terraform-plan"  # now after format_version, which a plan may start with


@pytest.mark.parametrize(
    ("forge", "message"),
    [
        (bad_options, 'plan.json: options must be {"allow_delete": BOOL, "force": BOOL}'),
        (users_as_a_list, "plan.json: spec.users: expected an object, got "),
        (another_kind, 'plan.json: not a saved onenet plan (no "kind": "onenet-plan")'),
    ],
)
def test_a_malformed_plan_with_a_matching_digest_is_one_clear_error(
    onenet, workdir: Path, forge: Any, message: str
) -> None:
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0
    edit(workdir / "plan.json", forge, redigest=True)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert result.err.startswith(f"Error: {message}"), result.err
    assert len(result.err.splitlines()) == 1
    assert users(workdir) == set()


def test_a_plan_that_is_not_utf8_names_the_byte(onenet, workdir: Path) -> None:
    (workdir / "plan.json").write_bytes(b'{"kind": "onenet-plan", "site": "caf\xe9"}\n')
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert result.err == "Error: plan.json: not UTF-8 text (byte 36)\n"


def test_declining_a_saved_plan_applies_nothing(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_renaming_emil(onenet, workdir)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    result = onenet("apply", "plan.json")
    assert result.code == 1
    assert "nothing applied" in result.err
    assert first_names(workdir)["emil"] == "Emil"
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    assert onenet("apply", "plan.json").code == 0
    assert first_names(workdir)["emil"] == "Emilio"


def test_a_backend_failure_during_a_saved_plan_says_to_plan_again(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_renaming_emil(onenet, workdir)
    monkeypatch.setenv("ONENET_SANDBOX_FAULTS", "nth=1")
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert "Apply: 0 applied, 0 deferred, 0 blocked, 0 gated, 1 failed." in result.out
    assert (
        "Failed: (backend): user/emil/update-profile: injected transient failure "
        "(nothing changed); run onenet plan again"
    ) in result.err
    assert first_names(workdir)["emil"] == "Emil"
