"""`onenet plan` through the real entry point: exit codes, streams, formats, --out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import plan_from_json
from tests.conftest import EXAMPLE, FIXTURES, ROOT


def test_plan_against_an_empty_sandbox(onenet, workdir: Path) -> None:
    result = onenet("plan", str(EXAMPLE))
    assert result.code == 0
    assert result.out.startswith("onenet plan for site berlin-hq, in the order it runs:")
    assert result.out.splitlines()[-1] == "Plan: 19 ready, 4 deferred, 0 blocked, 0 gated."
    assert result.err == ""
    assert (workdir / ".onenet" / "sandbox.db").exists()  # created on first use


def test_detailed_exitcode(onenet, workdir: Path) -> None:
    assert onenet("plan", str(EXAMPLE), "--detailed-exitcode").code == 2
    # apply everything, activate, apply again: then no changes, exit 0
    from onenet_apply.planning.planner import plan
    from onenet_apply.sitefile.validate import validate_file

    spec = validate_file(str(EXAMPLE)).spec
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    for _ in range(2):
        for action in plan(
            spec, backend.read_state("berlin-hq"), catalogue=backend.catalogue()
        ).ready:
            backend.execute("berlin-hq", action)
        backend.activate("berlin-hq")
    backend.close()
    result = onenet("plan", str(EXAMPLE), "--detailed-exitcode")
    assert result.code == 0
    assert result.out == "No changes. Site berlin-hq matches the site file.\n"


def test_json_format_is_exactly_one_document(onenet, workdir: Path) -> None:
    result = onenet("plan", str(EXAMPLE), "--format", "json")
    document = json.loads(result.out)  # fails on anything but one document
    assert document["kind"] == "onenet-plan" and document["format_version"] == 2
    assert document["site"] == "berlin-hq"
    assert document["summary"] == {"ready": 19, "deferred": 4, "blocked": 0, "gated": 0}
    golden = json.loads((ROOT / "tests" / "golden" / "example-empty.json").read_text())
    assert document["actions"] == golden["actions"]  # reviewed by hand, see tests/golden


def test_markdown_format(onenet, workdir: Path) -> None:
    result = onenet("plan", str(EXAMPLE), "--format", "markdown")
    assert result.code == 0
    assert result.out == (ROOT / "tests" / "golden" / "example-empty.md").read_text()


def test_out_saves_a_plan_that_reads_back(onenet, workdir: Path) -> None:
    result = onenet("plan", str(EXAMPLE), "--out", "plan.json")
    assert result.code == 0
    assert "Saved the plan to plan.json; apply it with: onenet apply plan.json" in result.err
    saved = plan_from_json(json.loads((workdir / "plan.json").read_text()))
    assert len(saved.actions) == 23
    assert saved.spec_digest.startswith("sha256:") and saved.state_digest.startswith("sha256:")
    assert not list(workdir.glob(".plan-*"))  # no temporary file left behind


def test_invalid_site_exits_1_with_problems_and_no_plan(onenet, workdir: Path) -> None:
    fixture = FIXTURES / "invalid" / "status-typo.yaml"
    result = onenet("plan", str(fixture), "--detailed-exitcode", "--out", "plan.json")
    assert result.code == 1
    assert f"{fixture}:12:13: users.anna.status:" in result.err
    assert result.out == ""
    assert not (workdir / "plan.json").exists()


def test_usage_errors_never_exit_2(onenet, workdir: Path) -> None:
    for args in (
        ["plan"],
        ["plan", str(EXAMPLE), "--format", "yaml"],
        ["plan", str(EXAMPLE), "--detailed-exitcode", "--bogus"],
    ):
        result = onenet(*args)
        assert result.code == 1, args
        assert "Traceback" not in result.err


def test_catalogue_comes_from_the_backend(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onenet_apply.model.catalogue import Catalogue, default_catalogue

    narrow = Catalogue.from_dict(
        {**default_catalogue().to_dict(), "desk_phones": ["none", "cisco-8841"]}
    )
    monkeypatch.setattr(SandboxBackend, "catalogue", lambda self: narrow)
    result = onenet("plan", str(EXAMPLE))
    assert result.code == 1
    assert "users.anna.desk_phone: unknown desk phone type `yealink-t54w`" in result.err


def test_warnings_go_to_stderr_and_do_not_fail(onenet, workdir: Path) -> None:
    warned = FIXTURES / "valid" / "deactivated-in-hunt-group.yaml"
    result = onenet("plan", str(warned))
    assert result.code == 0
    assert "warning: karl is deactivated and stays in this hunt group" in result.err


def test_warnings_are_in_every_rendering_of_the_plan(onenet, workdir: Path) -> None:
    """Also once the site is in place and nothing is left to do: a JSON or Markdown
    reader (a CI comment) sees what the admin on a terminal sees on stderr."""
    warned = str(FIXTURES / "valid" / "deactivated-in-hunt-group.yaml")
    warning = "karl is deactivated and stays in hunt group sales"
    for _ in range(2):
        onenet("apply", warned, "--yes")
        onenet("sandbox", "activate", "--site", "warn", "--all")
    assert onenet("plan", warned, "--detailed-exitcode").code == 0  # nothing to do
    assert json.loads(onenet("plan", warned, "--format", "json").out)["warnings"] == [warning]
    assert f"> :warning: {warning}" in onenet("plan", warned, "--format", "markdown").out
    assert f"Warning: {warning}" in onenet("plan", warned).out


def test_colour_only_on_a_terminal_and_never_with_no_color(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "\x1b[" not in onenet("plan", str(EXAMPLE)).out  # captured: not a terminal
    monkeypatch.setattr("click.utils.should_strip_ansi", lambda stream=None, color=None: False)
    assert "\x1b[" in onenet("plan", str(EXAMPLE)).out
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in onenet("plan", str(EXAMPLE)).out


@pytest.mark.parametrize("out", ["no/such/dir/plan.json", "site-file-as-dir/plan.json"])
def test_out_to_an_impossible_place_is_a_clear_error(onenet, workdir: Path, out: str) -> None:
    (workdir / "site-file-as-dir").write_text("a file, not a directory\n")
    result = onenet("plan", str(EXAMPLE), "--out", out)
    assert result.code == 1
    assert f"Error: cannot write {out}: " in result.err
    assert "Traceback" not in result.err
    assert list(workdir.glob("**/.onenet-*")) == []  # no temporary file left behind


def test_a_sandbox_path_under_a_file_is_a_clear_error(onenet, workdir: Path) -> None:
    (workdir / "plain-file").write_text("x\n")
    result = onenet("apply", str(EXAMPLE), "--yes", "--backend", "sandbox:plain-file/sandbox.db")
    assert result.code == 1
    assert "Error: cannot open the sandbox plain-file/sandbox.db: plain-file: " in result.err
    assert "Traceback" not in result.err


def test_a_malformed_fault_setting_is_a_clear_error(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONENET_SANDBOX_FAULTS", "sometimes")
    result = onenet("plan", str(EXAMPLE))
    assert result.code == 1
    assert "Error: ONENET_SANDBOX_FAULTS='sometimes': use nth=N or rate=P" in result.err
    assert "Traceback" not in result.err


def test_a_swap_on_a_site_without_a_number_pool_says_there_is_no_pool(
    onenet, workdir: Path
) -> None:
    head = "version: 1\nsite: {id: swap, name: Swap, country: DE}\nusers:\n"
    row = '  %s: {first_name: F, last_name: L, number: "030 123456%s", package: standard}\n'
    (workdir / "before.yaml").write_text(head + row % ("anna", "01") + row % ("ben", "02"))
    (workdir / "after.yaml").write_text(head + row % ("anna", "02") + row % ("ben", "01"))
    assert onenet("apply", "before.yaml", "--yes").code == 0
    onenet("sandbox", "activate", "--site", "swap", "--all")
    result = onenet("plan", "after.yaml", "--format", "json")
    reasons = {a["reason"] for a in json.loads(result.out)["actions"] if a["status"] == "blocked"}
    assert (
        "swapping numbers needs a free number to move through, and the site has no "
        "number_pool: add one to site.number_pool"
    ) in reasons
    assert not any("none left" in r for r in reasons)


def test_a_deactivated_user_who_cannot_join_is_not_said_to_stay(onenet, workdir: Path) -> None:
    """Karl, deactivated outside the group, is put in it: the join is blocked, so no
    rendering may say he stays in it."""
    warned = FIXTURES / "valid" / "deactivated-in-hunt-group.yaml"
    outside = workdir / "outside.yaml"
    outside.write_text(warned.read_text().replace("members: [anna, karl]", "members: [anna]"))
    for _ in range(2):
        onenet("apply", str(outside), "--yes")
        onenet("sandbox", "activate", "--site", "warn", "--all")
    assert onenet("plan", str(outside), "--detailed-exitcode").code == 0
    document = json.loads(onenet("plan", str(warned), "--format", "json").out)
    [join] = document["actions"]
    assert join["status"] == "blocked" and "cannot join" in join["reason"]
    assert document["warnings"] == []
    assert join["notes"] == []
    text = onenet("plan", str(warned)).out
    assert "stays in hunt group sales" not in text


@pytest.mark.parametrize("out", ["no/such/dir/plan.json", "site-file-as-dir/plan.json"])
def test_out_to_an_impossible_place_fails_before_planning(onenet, workdir: Path, out: str) -> None:
    (workdir / "site-file-as-dir").write_text("a file, not a directory\n")
    result = onenet("plan", str(EXAMPLE), "--out", out)
    assert result.code == 1
    assert result.out == ""  # no plan printed before the error
    what = "does not exist" if out.startswith("no/") else "is not a directory"
    assert result.err == f"Error: cannot write {out}: {out.rsplit('/', 1)[0]} {what}\n"


def test_out_onto_a_dangling_symlink_is_refused(onenet, workdir: Path) -> None:
    (workdir / "plan.json").symlink_to(workdir / "gone" / "plan.json")
    result = onenet("plan", str(EXAMPLE), "--out", "plan.json")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"Error: plan.json is a symlink to a missing file ({workdir}/gone/plan.json); "
        "name the file itself, or remove the link\n"
    )
    assert (workdir / "plan.json").is_symlink()


@pytest.mark.parametrize(
    "args",
    [
        ("apply", str(EXAMPLE), "--yes", "--credentials-out", ""),
        ("plan", str(EXAMPLE), "--out", ""),
        ("credentials", "reset", "--site", "berlin-hq", "--all", "--yes", "--credentials-out", ""),
    ],
    ids=["apply", "plan", "reset"],
)
def test_an_empty_file_name_is_called_empty(onenet, workdir: Path, args: tuple[str, ...]) -> None:
    result = onenet(*args)
    assert result.code == 1
    assert "the file name is empty ('')" in result.err
    assert ". exists" not in result.err


def test_the_collector_does_not_rescan_what_planning_made(onenet, workdir: Path) -> None:
    """Loading, validating and planning (drafts included) pause the cyclic collector:
    they make no cycles. In the command line what they made is then left out of the
    collector's later passes, which would otherwise scan every draft and action again
    (a third of a second of a 10,000-user plan from empty)."""
    import gc

    from benchmarks.sitegen import generate

    site = workdir / "site.yaml"
    site.write_text("".join(generate(2000, 400)), encoding="utf-8")
    scanned: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            scanned.append(sum(len(gc.get_objects(g)) for g in range(info["generation"] + 1)))

    gc.collect()
    gc.callbacks.append(count)
    try:
        result = onenet("plan", str(site))
    finally:
        gc.callbacks.remove(count)
        gc.unfreeze()
    assert result.code == 0, result.err
    # without: 86 passes, each over thousands of drafts and actions; with: about 12
    assert len(scanned) < 40, scanned
