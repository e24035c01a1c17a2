"""`--target TYPE/ID` on `onenet plan` and `onenet apply`: only the targeted objects'
actions and what they need (a swap partner and its temporary step, the delete that
frees a number), said in every format; a saved targeted plan applies exactly itself."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.plan import Plan, Target
from onenet_apply.model.vocabulary import SECTION_OF
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.planning.swaps import TEMPORARY
from tests.conftest import EXAMPLE, example_without_lena, scaled
from tests.planner_kit import LIFTED, run, spec_of, state_of
from tests.planner_strategies import scenarios
from tests.test_saved_plans import edit

PARTIAL = "Warning: this plan is partial"


def _built(onenet, workdir: Path) -> None:
    """The example site applied and activated: the sandbox matches the site file."""
    for n in (1, 2):
        assert onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", f"c{n}.csv").code in (
            0,
            3,
        )
        assert onenet("sandbox", "activate", "--site", "berlin-hq", "--all").code == 0
    assert onenet("plan", str(EXAMPLE), "--detailed-exitcode").code == 0


def _site(workdir: Path, text: str, name: str = "site.yaml") -> str:
    (workdir / name).write_text(text.replace("../schemas/", "schemas/"))
    return str(workdir / name)


def _swapped() -> str:
    """anna and ben trade numbers (and so extensions); carla gets a new first name."""
    text = EXAMPLE.read_text()
    text = text.replace('"030 12345601"', "SWAP").replace('"030 12345602"', '"030 12345601"')
    text = text.replace("SWAP", '"030 12345602"')
    return text.replace("first_name: Carla", "first_name: Carlotta")


def _ivan_takes_lenas_number() -> str:
    """lena leaves the site file, and ivan takes her number."""
    return example_without_lena().replace('"030 12345609"', '"030 12345612"')


def _ids(plan_json: dict) -> list[str]:
    return [a["id"] for a in plan_json["actions"]]


def _numbers(workdir: Path) -> dict[str, str]:
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    try:
        return {uid: c.item.number for uid, c in backend.read_state("berlin-hq").users.items()}
    finally:
        backend.close()


def test_a_target_on_one_user_plans_only_its_actions(onenet, workdir: Path) -> None:
    result = onenet("plan", str(EXAMPLE), "--target", "user/anna")
    assert result.code == 0, result.err
    heads = [line for line in result.out.splitlines() if line.startswith("  + ")]
    assert heads == ["  + user/anna create"]
    assert PARTIAL in result.out and "user/anna (--target)" in result.out
    assert "Pulled in" not in result.out  # a user's creation needs nothing else
    assert result.out.splitlines()[-1] == "Plan: 1 ready, 0 deferred, 0 blocked, 0 gated."
    document = json.loads(
        onenet("plan", str(EXAMPLE), "--target", "user/anna", "--format", "json").out
    )
    assert _ids(document) == ["user/anna/create"]
    assert document["targets"] == ["user/anna"] and document["pulled_in"] == []


def test_a_target_in_sync_plans_nothing_and_says_so(onenet, workdir: Path) -> None:
    _built(onenet, workdir)
    site = _site(workdir, _swapped())
    result = onenet("plan", site, "--target", "user/karl", "--detailed-exitcode")
    assert result.code == 0
    assert result.out.startswith("No changes to user/karl: they match the site file.")
    assert PARTIAL in result.out


def test_a_swap_pulls_in_the_partner_and_the_temporary_step(onenet, workdir: Path) -> None:
    _built(onenet, workdir)
    site = _site(workdir, _swapped())
    swap = [
        "user/anna/update-config-temporary",
        "user/ben/update-config",
        "user/anna/update-config",
    ]
    for target in ("user/ben", "user/anna"):
        document = json.loads(onenet("plan", site, "--target", target, "--format", "json").out)
        assert _ids(document) == swap, target  # carla's change is not planned
    result = onenet("plan", site, "--target", "user/ben")
    assert (
        "Pulled in: user/anna/update-config-temporary (frees number +493012345601 for user/ben)"
        in result.out
    )
    assert (
        "Pulled in: user/anna/update-config (completes the swap "
        "user/anna/update-config-temporary starts)" in result.out
    )
    result = onenet("plan", site, "--target", "user/anna")
    assert "Pulled in: user/ben/update-config (frees number +493012345602 for user/anna)" in (
        result.out
    )


def test_after_a_targeted_apply_a_plan_shows_the_rest(onenet, workdir: Path) -> None:
    _built(onenet, workdir)
    site = _site(workdir, _swapped())
    result = onenet("apply", site, "--target", "user/ben", "--yes")
    assert result.code == 0, result.err
    assert "Apply: 3 applied" in result.out
    numbers = _numbers(workdir)
    assert (numbers["anna"], numbers["ben"]) == ("+493012345602", "+493012345601")
    document = json.loads(onenet("plan", site, "--format", "json").out)
    assert _ids(document) == ["user/carla/update-profile"]  # the rest, still to do
    assert "targets" not in document


def test_a_delete_that_frees_a_number_is_pulled_in_and_gated(onenet, workdir: Path) -> None:
    _built(onenet, workdir)
    site = _site(workdir, _ivan_takes_lenas_number())
    result = onenet("plan", site, "--target", "user/ivan")
    assert result.code == 0, result.err
    assert "Pulled in: user/lena/delete (frees number +493012345612 for user/ivan)" in result.out
    assert (
        "Pulled in: call_centre/support/set-members (lets lena leave call_centre/support "
        "before user/lena/delete)" in result.out
    )
    assert "[gated: deleting needs --allow-delete" in result.out
    assert "[gated: waits for user/lena/delete" in result.out
    refused = onenet("apply", site, "--target", "user/ivan", "--yes")
    assert refused.code == 1 and "deleting needs --allow-delete" in refused.err
    assert "lena" in _numbers(workdir)  # nothing changed
    applied = onenet("apply", site, "--target", "user/ivan", "--yes", "--allow-delete")
    assert applied.code == 0, applied.err
    numbers = _numbers(workdir)
    assert "lena" not in numbers and numbers["ivan"] == "+493012345612"


def test_unknown_type_or_id_is_one_clear_error(onenet, workdir: Path) -> None:
    bad_type = onenet("plan", str(EXAMPLE), "--target", "person/anna")
    assert bad_type.code == 1
    assert "unknown type 'person'; the types are user, hunt_group, call_centre" in bad_type.err
    no_id = onenet("plan", str(EXAMPLE), "--target", "user")
    assert no_id.code == 1 and "no id after the type" in no_id.err
    for command in (("plan",), ("apply", "--yes")):
        missing = onenet(*command, str(EXAMPLE), "--target", "user/zed")
        assert missing.code == 1
        assert "--target user/zed: no such object in the site file or on the backend" in missing.err
        assert "Traceback" not in missing.err
    assert _numbers(workdir) == {}  # the apply changed nothing


def test_json_and_markdown_show_why_actions_were_pulled_in(onenet, workdir: Path) -> None:
    _built(onenet, workdir)
    site = _site(workdir, _ivan_takes_lenas_number())
    document = json.loads(onenet("plan", site, "--target", "user/ivan", "--format", "json").out)
    assert document["targets"] == ["user/ivan"]
    assert document["pulled_in"] == [
        {
            "id": "call_centre/support/set-members",
            "reason": "lets lena leave call_centre/support before user/lena/delete",
        },
        {"id": "user/lena/delete", "reason": "frees number +493012345612 for user/ivan"},
    ]
    assert document["options"]["targets"] == ["user/ivan"]
    markdown = onenet("plan", site, "--target", "user/ivan", "--format", "markdown").out
    assert "> :warning: **Partial plan**: this plan is partial" in markdown
    assert "| `user/lena/delete` | frees number +493012345612 for user/ivan |" in markdown


def test_a_saved_targeted_plan_applies_exactly_its_actions(onenet, workdir: Path) -> None:
    _built(onenet, workdir)
    site = _site(workdir, _swapped())
    assert onenet("plan", site, "--target", "user/ben", "--out", "plan.json").code == 0
    saved = json.loads((workdir / "plan.json").read_text())
    assert saved["options"] == {"allow_delete": False, "force": False, "targets": ["user/ben"]}
    refused = onenet("apply", "plan.json", "--target", "user/carla", "--yes")
    assert refused.code == 1 and "a saved plan keeps the targets it was made with" in refused.err
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 0, result.err
    assert "Apply: 3 applied" in result.out and "Not in the saved plan" not in result.out
    document = json.loads(onenet("plan", site, "--format", "json").out)
    assert _ids(document) == ["user/carla/update-profile"]


def test_a_saved_targeted_plan_is_still_checked_for_staleness(onenet, workdir: Path) -> None:
    _built(onenet, workdir)
    site = _site(workdir, _swapped())
    assert onenet("plan", site, "--target", "user/ben", "--out", "plan.json").code == 0
    other = _site(
        workdir, EXAMPLE.read_text().replace('"030 12345602"', '"030 12345670"'), "o.yaml"
    )
    assert onenet("apply", other, "--yes").code == 0  # ben moves on meanwhile
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1 and "stale plan" in result.err


def test_a_saved_plan_whose_targets_were_edited_is_refused(onenet, workdir: Path) -> None:
    """The targets are part of what the plan is derived from: widening them (even with
    a forged plan_digest) makes the actions disagree with the plan's own content."""
    _built(onenet, workdir)
    site = _site(workdir, _swapped())
    assert onenet("plan", site, "--target", "user/ben", "--out", "plan.json").code == 0

    def widen(document: dict) -> None:
        document["options"]["targets"] = ["user/ben", "user/carla"]

    edit(workdir / "plan.json", widen, redigest=True)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1 and "tampered plan" in result.err
    assert _numbers(workdir)["ben"] == "+493012345602"  # nothing applied

    def not_a_target(document: dict) -> None:
        document["options"]["targets"] = ["room/1"]

    edit(workdir / "plan.json", not_a_target, redigest=True)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1 and "options.targets: 'room/1': unknown type 'room'" in result.err


def _closed(full: Plan, targeted: Plan, targets: set[Target]) -> None:
    order = [a.id for a in full.actions]
    kept = [a.id for a in targeted.actions]
    assert kept == [i for i in order if i in set(kept)]  # plan order, a subset
    for action in targeted.actions:
        assert set(action.follows) <= set(kept), action.id  # closed under `follows`
        if action.id.endswith(TEMPORARY):  # a swap is never left half done
            assert any(a.target == action.target and action.id in a.follows
                       for a in targeted.actions), action.id  # fmt: skip
    assert {a.id for a in full.actions if a.target in targets} <= set(kept)
    assert {i for i, _ in targeted.pulled_in} == {
        a.id for a in targeted.actions if a.target not in targets
    }


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(harsh=False), st.data())
def test_a_targeted_plan_is_closed_under_its_dependencies(scenario, data) -> None:
    current = spec_of(scenario.current.text)
    desired = spec_of(scenario.desired.text)
    deactivated = {
        uid: "deactivated" for uid, u in current.users.items() if u.status == "deactivated"
    }
    state = state_of(current, **deactivated)
    full = run(desired, state, allow_delete=True, force=True)
    objects = sorted(
        {Target(t, i) for t, section in SECTION_OF.items() for i in getattr(desired, section)}
        | {Target(t, i) for t in SECTION_OF for i in state.section(t)},
        key=str,
    )
    targets = data.draw(st.lists(st.sampled_from(objects), min_size=1, max_size=3, unique=True))
    options = PlanOptions(LIFTED.allow_delete, LIFTED.force, tuple(targets))
    targeted = plan(desired, state, options, catalogue=default_catalogue())
    _closed(full, targeted, set(targets))


def test_gates_count_what_the_targeted_plan_changes(onenet, workdir: Path) -> None:
    """4 of 12 users changed is over policy.max_change_percent (30%): the whole plan is
    gated, a plan targeting one of them changes 1 in 12 and is not."""
    _built(onenet, workdir)
    text = EXAMPLE.read_text()
    for name in ("Anna", "Ben", "Carla", "Deniz"):
        text = text.replace(f"first_name: {name}", f"first_name: {name}x")
    site = _site(workdir, text)
    assert "4 gated" in onenet("plan", site).out
    result = onenet("plan", site, "--target", "user/anna")
    assert result.out.splitlines()[-1] == "Plan: 1 ready, 0 deferred, 0 blocked, 0 gated."
    assert onenet("apply", site, "--target", "user/anna", "--yes").code == 0
