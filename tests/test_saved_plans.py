"""Saved plans through the real CLI: a reviewed artifact, recognised by its content,
that cannot be edited into something else and does not go stale for nothing."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.digest import json_digest
from onenet_apply.model.plan import Kind
from onenet_apply.model.spec import frozen_map
from onenet_apply.planning.planner import plan
from onenet_apply.savedplan import plan_file, recognition
from tests.conftest import EXAMPLE, example_without_lena, run_process
from tests.sandbox_kit import act

SITE = "berlin-hq"


def sandbox(workdir: Path) -> SandboxBackend:
    return SandboxBackend(workdir / ".onenet" / "sandbox.db")


def users(workdir: Path) -> set[str]:
    backend = sandbox(workdir)
    try:
        return set(backend.read_state(SITE).users)
    finally:
        backend.close()


def built(onenet, workdir: Path) -> None:
    """The example site, fully built and activated."""
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    assert onenet("sandbox", "activate", "--site", SITE, "--all").code == 0
    assert onenet("apply", str(EXAMPLE), "--yes").code == 0


def edit(path: Path, change: Any, *, redigest: bool = False) -> None:
    """Edit a saved plan in place; with `redigest`, forge its plan_digest to match."""
    document = json.loads(path.read_text())
    change(document)
    if redigest:
        body = {k: v for k, v in document.items() if k != "plan_digest"}
        document["plan_digest"] = json_digest(body)
    path.write_text(json.dumps(document, indent=2))


def plan_deleting_lena(onenet, workdir: Path) -> Path:
    built(onenet, workdir)
    (workdir / "smaller.yaml").write_text(example_without_lena())
    assert onenet("plan", "smaller.yaml", "--out", "plan.json").code == 0
    return workdir / "plan.json"


def ungate(document: dict[str, Any]) -> None:
    for action in document["actions"]:
        if action["status"] == "gated":
            action["status"], action["reason"] = "ready", None


@pytest.mark.parametrize("redigest", [False, True])
def test_a_gated_action_edited_to_ready_is_refused(onenet, workdir: Path, redigest: bool) -> None:
    saved = plan_deleting_lena(onenet, workdir)
    assert '"status": "gated"' in saved.read_text()
    edit(saved, ungate, redigest=redigest)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    if redigest:  # a consistent digest does not help: the gate is derived again
        assert "plan.json: tampered plan: its actions are not what its own site content" in (
            result.err
        )
        assert "user/lena/delete is gated (deleting needs --allow-delete" in result.err
    else:
        assert "plan.json: the plan was changed after it was made" in result.err
    assert "lena" in users(workdir)


@pytest.mark.parametrize("redigest", [False, True])
def test_an_appended_delete_is_refused(onenet, workdir: Path, redigest: bool) -> None:
    built(onenet, workdir)
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0  # no changes

    def append_delete(document: dict[str, Any]) -> None:
        document["actions"].append(
            {
                "id": "user/lena/delete",
                "kind": "delete",
                "target": {"type": "user", "id": "lena"},
                "status": "ready",
                "reason": None,
                "needs": None,
                "follows": [],
                "notes": [],
                "changes": [],
            }
        )

    edit(workdir / "plan.json", append_delete, redigest=redigest)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    expected = "user/lena/delete is not planned" if redigest else "changed after it was made"
    assert expected in result.err
    assert "lena" in users(workdir)


def test_edited_site_content_is_refused(onenet, workdir: Path) -> None:
    """Allowing deletes in the plan's own site content needs a new spec_digest."""
    saved = plan_deleting_lena(onenet, workdir)

    def allow_delete(document: dict[str, Any]) -> None:
        document["spec"]["site"]["policy"]["allow_delete"] = True
        ungate(document)

    edit(saved, allow_delete, redigest=True)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert "plan.json: the plan's site content does not match its spec_digest" in result.err
    assert "lena" in users(workdir)


def test_a_consistent_forgery_of_an_invalid_site_is_refused(onenet, workdir: Path) -> None:
    """Site content edited into what no site file may hold, with the plan derived from
    it and every digest recomputed, is validated again like a site file."""
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0
    saved = plan_file.read_saved_plan("plan.json")
    anna = replace(saved.spec.users["anna"], first_name="A" * 40)
    forged = replace(saved.spec, users=frozen_map({**saved.spec.users, "anna": anna}))
    state = sandbox(workdir).read_state(SITE)
    forged_plan = plan(forged, state, saved.options, catalogue=default_catalogue())
    (workdir / "plan.json").write_text(plan_file.render(forged_plan, forged, saved.options))
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert "plan.json: the plan's site content is not a valid site here: " in result.err
    assert "users.anna.first_name: " in result.err
    assert users(workdir) == set()


def test_options_come_from_the_plan_not_from_apply(onenet, workdir: Path) -> None:
    plan_deleting_lena(onenet, workdir)
    result = onenet("apply", "plan.json", "--yes", "--allow-delete")
    assert result.code == 1
    assert "a saved plan keeps the options it was made with" in result.err
    assert "lena" in users(workdir)
    assert onenet("plan", "smaller.yaml", "--allow-delete", "--out", "plan.json").code == 0
    assert onenet("apply", "plan.json", "--yes").code == 0
    assert "lena" not in users(workdir)


def test_an_untouched_plan_applies_whatever_its_name(onenet, workdir: Path) -> None:
    assert onenet("plan", str(EXAMPLE), "--out", "plan.out").code == 0
    result = onenet("apply", "plan.out", "--yes")
    assert result.code == 3, result.err
    assert "Apply: 19 applied, 4 deferred" in result.out
    assert len(users(workdir)) == 12


def test_unrelated_activations_and_changes_do_not_make_a_plan_stale(onenet, workdir: Path) -> None:
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3  # every user pending
    renamed = workdir / "renamed.yaml"
    renamed.write_text(EXAMPLE.read_text().replace("first_name: Anna", "first_name: Annabel"))
    assert onenet("plan", str(renamed), "--out", "plan.json").code == 0
    # on a live site activations and other changes arrive all the time
    assert onenet("sandbox", "activate", "--site", SITE, "ben", "ivan").code == 0
    backend = sandbox(workdir)
    backend.execute(SITE, act(Kind.UPDATE_PROFILE, "user", "carla", first_name="Carlotta"))
    backend.close()
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 3, result.err
    assert "Apply: 1 applied" in result.out
    assert "Not in the saved plan, so not applied: 3 actions the site now needs " in result.err
    assert "(user/carla/update-profile, " in result.err
    state = sandbox(workdir).read_state(SITE)
    assert state.users["anna"].item.first_name == "Annabel"
    assert state.users["carla"].item.first_name == "Carlotta"  # nobody reviewed its change


def test_members_activated_since_the_plan_join_at_once(onenet, workdir: Path) -> None:
    """The plan writes sales' members it can now and the rest later; when those are
    activated before the apply, the list the reviewer approved is written at once."""
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3  # every user pending
    assert onenet("sandbox", "activate", "--site", SITE, "ben", "deniz").code == 0
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0
    saved = json.loads((workdir / "plan.json").read_text())
    sales = {a["id"]: a for a in saved["actions"] if a["target"]["id"] == "sales"}
    assert sales["hunt_group/sales/set-members"]["changes"][0]["after"] == ["ben", "deniz"]
    assert sales["hunt_group/sales/set-members-later"]["status"] == "deferred"
    assert onenet("sandbox", "activate", "--site", SITE, "georg").code == 0
    result = onenet("apply", "plan.json", "--yes")
    assert result.code in (0, 3), result.err
    members = sandbox(workdir).read_state(SITE).hunt_groups["sales"].item.members
    assert list(members) == ["ben", "deniz", "georg"]
    # a list the reviewer never approved is still stale
    assert onenet("plan", str(EXAMPLE), "--out", "again.json").code == 0
    other = workdir / "other.yaml"
    other.write_text(EXAMPLE.read_text().replace("members: [ben, deniz, georg]", "members: [ben]"))
    assert onenet("plan", str(other), "--out", "shrink.json").code == 0
    backend = sandbox(workdir)
    backend.execute(SITE, act(Kind.SET_MEMBERS, "hunt_group", "sales", members=["deniz"]))
    backend.close()
    stale = onenet("apply", "shrink.json", "--yes")
    assert stale.code == 1 and "stale plan" in stale.err and "hunt_group/sales" in stale.err


def test_a_number_the_plan_claims_taken_elsewhere_makes_it_stale(onenet, workdir: Path) -> None:
    built(onenet, workdir)
    zoe = '  zoe: {first_name: Zoe, last_name: Z, number: "030 12345688", package: standard}\n'
    text = EXAMPLE.read_text()
    at = text.index("\nhunt_groups:") + 1
    (workdir / "more.yaml").write_text(text[:at] + zoe + text[at:])
    assert onenet("plan", "more.yaml", "--out", "plan.json").code == 0
    backend = sandbox(workdir)  # meanwhile, in the portal, carla takes zoe's number
    backend.execute(SITE, act(Kind.UPDATE_CONFIG, "user", "carla", number="+493012345688"))
    backend.close()
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert "stale plan: site berlin-hq changed since the plan was made: " in result.err
    assert "user/zoe/create must now follow user/carla/update-config" in result.err
    assert "zoe" not in users(workdir)


def test_plan_out_never_overwrites_another_file(onenet, workdir: Path) -> None:
    assert onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "creds.csv").code == 3
    (workdir / "site.yaml").write_text(EXAMPLE.read_text())
    for name in ("creds.csv", "site.yaml", ".onenet/sandbox.db"):
        before = (workdir / name).read_bytes()
        result = onenet("plan", "site.yaml", "--out", name)
        assert result.code == 1
        assert f"Error: {name} exists and is not a saved plan" in result.err
        assert (workdir / name).read_bytes() == before
    # a saved plan may be replaced by a new one
    assert onenet("plan", "site.yaml", "--out", "plan.json").code == 0
    assert onenet("plan", "site.yaml", "--out", "plan.json").code == 0


def test_a_site_file_in_json_syntax_is_not_a_plan(onenet, workdir: Path) -> None:
    (workdir / "site.json").write_text(json.dumps(yaml.safe_load(EXAMPLE.read_text())))
    result = onenet("apply", "site.json", "--yes")
    assert result.code == 3, result.err
    assert "Apply: 19 applied, 4 deferred" in result.out


def test_plan_json_and_plan_out_are_the_same_document(onenet, workdir: Path) -> None:
    printed = onenet("plan", str(EXAMPLE), "--format", "json", "--out", "plan.json")
    assert printed.out == (workdir / "plan.json").read_text()
    document = json.loads(printed.out)
    assert list(document)[:2] == ["kind", "format_version"]
    assert document["options"] == {"allow_delete": False, "force": False}
    assert list(document)[-1] == "plan_digest"


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"kind": "onenet-plan", "format_version": 2, "actions": ' + "[" * 100_000, "nested"),
        ('{"kind": "onenet-plan", "format_version": 2, "a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"kind": "onenet-plan", "format_version": NaN}', "NaN is not a JSON number"),
        ('{"kind": "onenet-plan",\n "format_version": 2,', "plan.json:2:22: not valid JSON"),
        ('{"kind": "onenet-plan", "format_version": 2, "x": 1' + "0" * 5000 + "}", "5,001 digits"),
        ('{"kind": "onenet-plan", "format_version": 2, "x": 1e999999}', "1e999999 is in no"),
    ],
)
def test_a_hostile_plan_file_is_one_clear_error(
    onenet, workdir: Path, content: str, message: str
) -> None:
    (workdir / "plan.json").write_text(content)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert message in result.err and "Traceback" not in result.err
    assert len(result.err.splitlines()) == 1


def test_a_huge_plan_file_is_refused_unread(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0
    monkeypatch.setattr(plan_file, "MAX_PLAN_BYTES", 10_000)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert "plan.json: larger than 10,000 bytes, not a saved plan" in result.err
    assert users(workdir) == set()


def test_plan_out_to_a_fifo_is_refused_without_opening_it(onenet, workdir: Path) -> None:
    os.mkfifo(workdir / "pipe")
    assert not recognition.is_saved_plan(str(workdir / "pipe"))  # returns: never opens it
    result = onenet("plan", str(EXAMPLE), "--out", "pipe")
    assert result.code == 1
    assert "Error: pipe exists and is not a saved plan" in result.err


def test_an_edited_value_is_named(onenet, workdir: Path) -> None:
    assert onenet("plan", str(EXAMPLE), "--out", "plan.json").code == 0

    def rename_anna(document: dict[str, Any]) -> None:
        [create] = [a for a in document["actions"] if a["id"] == "user/anna/create"]
        [first_name] = [c for c in create["changes"] if c["field"] == "first_name"]
        first_name["after"] = "Eve"

    edit(workdir / "plan.json", rename_anna, redigest=True)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert (
        "tampered plan: " in result.err and "user/anna/create differs in first_name" in result.err
    )
    assert users(workdir) == set()


def test_a_deeply_nested_plan_file_in_a_fresh_interpreter(workdir: Path) -> None:
    (workdir / "plan.json").write_text('{"kind": "onenet-plan", "actions": ' + "[" * 100_000)
    result = run_process("apply", "plan.json", "--yes", cwd=workdir)
    assert result.code == 1
    assert result.err == "Error: plan.json: nested too deeply to be a saved plan\n"


def test_a_flipped_option_is_named_without_a_python_none(onenet, workdir: Path) -> None:
    saved = plan_deleting_lena(onenet, workdir)

    def allow_delete(document: dict[str, Any]) -> None:
        document["options"]["allow_delete"] = True

    edit(saved, allow_delete, redigest=True)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert "user/lena/delete is ready, the plan says gated" in result.err
    assert "None" not in result.err
    assert "lena" in users(workdir)
