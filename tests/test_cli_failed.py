"""Failed activations through the real entry point: shown as what they are, the
team's answers (retry, remove) in the sandbox, import, and the exit codes that tell
"changes to make" from "needs a human"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend

SITE = "s1"
ANNA = '  anna: {first_name: Anna, last_name: A, number: "030 12345601", package: standard}\n'
FAY = '  fay: {first_name: Fay, last_name: F, number: "030 12345602", package: professional}\n'
CARL = '  carl: {first_name: Carl, last_name: C, number: "030 12345602", package: standard}\n'
HEAD = "version: 1\nsite: {id: s1, name: S, country: DE}\nusers:\n"
SALES = (
    'hunt_groups:\n  sales: {name: Sales, number: "030 12345650", policy: circular, '
    "members: [anna]}\n"
)
FAILED_LINE = (
    "  ! user/fay activation failed: contact the One Net Business team; "
    "they can retry the activation or remove the user"
)


def site(workdir: Path, body: str, name: str = "site.yaml") -> str:
    (workdir / name).write_text(HEAD + body)
    return name


@pytest.fixture
def failed_fay(onenet, workdir: Path) -> str:
    """anna activated, fay's activation failed; the site file lists both."""
    path = site(workdir, ANNA + FAY)
    assert onenet("apply", path, "--yes").code == 0
    assert onenet("sandbox", "activate", "--site", SITE, "anna").code == 0
    assert onenet("sandbox", "fail", "--site", SITE, "fay").code == 0
    return path


def lifecycles(workdir: Path) -> dict[str, str]:
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    try:
        return {k: str(v.lifecycle) for k, v in backend.read_state(SITE).users.items()}
    finally:
        backend.close()


def test_a_failed_user_plans_as_one_line_of_advice_never_a_create(
    onenet, workdir: Path, failed_fay: str
) -> None:
    result = onenet("plan", failed_fay, "--detailed-exitcode")
    assert result.code == 4  # nothing to change, a human must act
    assert result.out.splitlines() == [
        "onenet plan for site s1, in the order it runs:",
        "",
        FAILED_LINE,
        "",
        "Plan: 0 ready, 0 deferred, 1 blocked, 0 gated. "
        "Nothing to change until a human acts on the blocked items.",
    ]
    document = json.loads(onenet("plan", failed_fay, "--format", "json").out)
    assert document["summary"] == {"ready": 0, "deferred": 0, "blocked": 1, "gated": 0}
    [action] = document["actions"]
    assert (action["id"], action["kind"], action["status"], action["changes"]) == (
        "user/fay/activation-failed",
        "activation-failed",
        "blocked",
        [],
    )
    assert action["reason"] == FAILED_LINE.split("user/fay ", 1)[1]
    markdown = onenet("plan", failed_fay, "--format", "markdown").out
    assert "| 0 | 0 | 1 | 0 | 0 | 0 | 0 |" in markdown  # blocked, and no create counted
    assert f"| `user/fay/activation-failed` | blocked | {action['reason']} |" in markdown
    applied = onenet("apply", failed_fay, "--yes")
    assert applied.code == 4  # only blocked work remains
    assert applied.out.splitlines()[-1] == "Apply: 0 applied, 0 deferred, 1 blocked, 0 gated, 0 failed."
    assert applied.err.splitlines() == [
        "Only blocked items remain: a human must act on them first (see their reasons).",
    ]
    assert lifecycles(workdir)["fay"] == "failed"  # nothing was done to it


def test_dropped_from_the_site_file_it_is_not_deleted_and_keeps_its_number(
    onenet, workdir: Path, failed_fay: str
) -> None:
    dropped = onenet("plan", site(workdir, ANNA, "dropped.yaml"), "--detailed-exitcode")
    assert dropped.code == 4
    assert (
        "  ! user/fay activation failed: contact the One Net Business team; the site file "
        "no longer lists it: ask them to remove the user"
    ) in dropped.out
    assert "user/fay delete" not in dropped.out
    taker = onenet("plan", site(workdir, ANNA + CARL, "taker.yaml"), "--detailed-exitcode")
    assert taker.code == 4  # carl cannot have fay's number until the team removes fay
    assert "+ user/carl create [blocked: waits for user/fay/activation-failed" in taker.out
    # a step that would wait for carl's activation waits for the team first: blocked too
    deactivated = CARL.replace(
        "}\n",
        ', status: deactivated, deactivation: {transfer_to: "030 12345601", '
        "caller: hears-number}}\n",
    )
    later = onenet("plan", site(workdir, ANNA + deactivated, "later.yaml"), "--detailed-exitcode")
    assert later.code == 4, later.out
    assert "~ user/carl deactivate [blocked: waits for user/carl/create (blocked: " in later.out


def test_the_team_retries_the_activation(onenet, workdir: Path, failed_fay: str) -> None:
    result = onenet("sandbox", "retry", "--site", SITE, "fay")
    assert (result.code, result.out) == (0, "user/fay: pending\n")
    assert lifecycles(workdir)["fay"] == "pending"
    assert onenet("plan", failed_fay, "--detailed-exitcode").code == 0
    assert onenet("sandbox", "activate", "--site", SITE, "fay").code == 0
    assert lifecycles(workdir)["fay"] == "activated"


def test_the_team_removes_the_user_and_frees_its_number_and_licence(
    onenet, workdir: Path, failed_fay: str
) -> None:
    assert onenet("sandbox", "configure", "--site", SITE, "--licence", "professional=1").code == 0
    result = onenet("sandbox", "remove", "--site", SITE, "user/fay")
    assert (result.code, result.out) == (0, "user/fay: removed\n")
    assert "fay" not in lifecycles(workdir)
    # the site file still wants fay: created again, with the same number and licence
    again = onenet("plan", failed_fay, "--detailed-exitcode")
    assert again.code == 2 and "  + user/fay create\n" in again.out
    assert onenet("apply", failed_fay, "--yes").code == 0
    assert lifecycles(workdir)["fay"] == "pending"


def test_a_removed_failed_group_frees_its_number(onenet, workdir: Path) -> None:
    path = site(workdir, ANNA + SALES)
    assert onenet("apply", path, "--yes").code == 3
    assert onenet("sandbox", "fail", "--site", SITE, "anna", "hunt_group/sales").code == 0
    plan = onenet("plan", path, "--detailed-exitcode")
    assert plan.code == 4
    assert "  ! hunt_group/sales activation failed: contact the One Net Business team" in plan.out
    result = onenet("sandbox", "remove", "--site", SITE, "--all")
    assert result.out.splitlines() == ["user/anna: removed", "hunt_group/sales: removed"]
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    assert backend.check_consistency(SITE) == []
    backend.close()
    assert onenet("apply", path, "--yes").code == 3  # both created afresh


@pytest.mark.parametrize("verb", ["retry", "remove"])
def test_naming_what_has_not_failed_changes_nothing(
    onenet, workdir: Path, failed_fay: str, verb: str
) -> None:
    before = lifecycles(workdir)
    result = onenet("sandbox", verb, "--site", SITE, "fay", "anna", "zed")
    assert result.code == 1
    assert result.err.strip() == (
        "Error: not failed: anna: it is activated, not failed; zed: no such user or group"
    )
    assert lifecycles(workdir) == before
    usage = onenet("sandbox", verb, "--site", SITE)
    assert usage.code == 1 and "Error:" in usage.err and "Traceback" not in usage.err


def test_import_writes_a_failed_user_that_plans_to_no_change(
    onenet, workdir: Path, failed_fay: str
) -> None:
    assert onenet("import", "--site", SITE, "--out", "imported.yaml").code == 0
    text = (workdir / "imported.yaml").read_text()
    assert "# Activation failed for user fay: contact the One Net Business team," in text
    result = onenet("plan", "imported.yaml", "--detailed-exitcode")
    assert result.code == 4
    assert result.out.splitlines()[2:4] == [FAILED_LINE, ""]


def test_exit_codes_tell_changes_from_needs_a_human(onenet, workdir: Path) -> None:
    """plan --detailed-exitcode: 0 nothing, 2 changes, 4 only blocked;
    apply: 0 done, 3 deferred work remains (blocked may be listed too), 4 only blocked."""
    path = site(workdir, ANNA + FAY + SALES.replace("[anna]", "[anna, fay]"))
    assert onenet("plan", path, "--detailed-exitcode").code == 2
    assert onenet("apply", path, "--yes").code == 3  # memberships wait for activation
    onenet("sandbox", "activate", "--site", SITE, "anna", "hunt_group/sales")
    onenet("sandbox", "fail", "--site", SITE, "fay")
    assert onenet("plan", path, "--detailed-exitcode").code == 2  # anna can join now
    assert onenet("apply", path, "--yes").code == 4  # joined; fay needs a human
    assert onenet("plan", path, "--detailed-exitcode").code == 4
    assert onenet("apply", path, "--yes").code == 4
    onenet("sandbox", "retry", "--site", SITE, "fay")
    assert onenet("plan", path, "--detailed-exitcode").code == 2  # deferred: fay's membership
    assert onenet("apply", path, "--yes").code == 3
    onenet("sandbox", "activate", "--site", SITE, "fay")
    assert onenet("apply", path, "--yes").code == 0
    assert onenet("plan", path, "--detailed-exitcode").code == 0
    assert onenet("apply", path, "--yes").code == 0  # nothing to do


def test_the_ci_workflow_accepts_exit_4_where_it_accepts_3() -> None:
    import yaml

    from tests.conftest import ROOT

    workflow = yaml.safe_load((ROOT / "examples" / "github-workflow.yml").read_text())
    steps = {step.get("name"): step for job in workflow["jobs"].values() for step in job["steps"]}
    assert '[ "$code" -eq 4 ]' in steps["Plan every site"]["run"]
    for applies in ("Apply the reviewed plan", "Converge (deferred work, as activations arrive)"):
        assert '[ "$code" -eq 3 ] || [ "$code" -eq 4 ]' in steps[applies]["run"]
    comment = steps["Comment the plan on the pull request"]
    assert comment["env"]["EXITCODE"] == "${{ steps.plan.outputs.exitcode }}"
    assert 'env["EXITCODE"] == "4"' in comment["run"]


def test_removing_a_failed_group_a_transfer_points_at_names_the_next_step(
    onenet, workdir: Path
) -> None:
    karl = '  karl: {first_name: Karl, last_name: K, number: "030 12345603", package: standard}\n'
    path = site(workdir, ANNA + karl + SALES)
    assert onenet("apply", path, "--yes").code == 3
    assert onenet("sandbox", "activate", "--site", SITE, "anna", "karl").code == 0
    assert onenet("sandbox", "fail", "--site", SITE, "hunt_group/sales").code == 0
    transfer = (
        ', status: deactivated, deactivation: {transfer_to: "030 12345650", caller: presses-key}}'
    )
    site(workdir, ANNA + karl.replace("}\n", transfer + "\n") + SALES)
    assert onenet("apply", path, "--yes").code == 4  # karl deactivated; sales blocked
    result = onenet("sandbox", "remove", "--site", SITE, "hunt_group/sales")
    assert result.code == 1
    assert result.err == (
        "Error: hunt_group/sales cannot be removed while deactivated user karl transfers to "
        "+493012345650: change or remove karl's deactivation transfer "
        "(deactivation.transfer_to) in the site file and apply, then remove hunt_group/sales "
        "again [referenced]\n"
    )
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    assert "sales" in backend.read_state(SITE).hunt_groups  # nothing removed
    backend.close()
