"""`onenet validate`: exit codes, output streams and formats."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLE, FIXTURES, run_process

INVALID = FIXTURES / "invalid"
WARNING_SITE = FIXTURES / "valid" / "deactivated-in-hunt-group.yaml"


def test_valid_site_exits_0_with_a_summary_on_stdout(onenet) -> None:
    result = onenet("validate", str(EXAMPLE))
    assert result.code == 0
    assert result.out == (
        f"{EXAMPLE}: site berlin-hq is valid: 12 users, 2 hunt groups, 1 call centre, "
        "1 pickup group, 1 park group\n"
    )
    assert result.err == ""


def test_validate_reports_a_valid_site_without_assembling_its_spec(onenet, monkeypatch) -> None:
    """The summary comes from the file as read; the typed spec is for planning, and
    building it would cost a large site's validate a twentieth of its time."""
    from onenet_apply.sitefile import verdict
    from onenet_apply.sitefile.validate import validate_file

    expected = validate_file(str(EXAMPLE)).spec
    assert expected is not None

    def no_spec(*args: object) -> None:
        raise AssertionError("validate assembled the spec")

    monkeypatch.setattr(verdict, "build_spec", no_spec)
    result = onenet("validate", str(EXAMPLE))
    assert result.code == 0, result.err
    assert result.out == f"{EXAMPLE}: site {expected.site.id} is valid: {expected.summary()}\n"


def test_the_spec_of_a_valid_site_is_assembled_once_and_the_file_data_let_go() -> None:
    from onenet_apply.sitefile.validate import validate_file

    result = validate_file(str(EXAMPLE))
    assert result.valid is not None and result.valid.site_id == "berlin-hq"
    spec = result.spec
    assert spec is not None and result.spec is spec
    # only the spec is kept alive for the plan
    assert result.valid._data is None and result.valid._normalised is None
    assert result.valid.site_id == "berlin-hq"
    assert result.valid.summary() == spec.summary()


def test_problems_go_to_stderr_with_a_closing_count(onenet) -> None:
    result = onenet("validate", str(INVALID / "unknown-user-key.yaml"))
    assert result.code == 1
    assert result.out == ""
    assert result.err.splitlines()[-1] == "1 error in 1 of 1 file"


def test_every_file_is_checked_in_one_run(onenet) -> None:
    files = [INVALID / "status-typo.yaml", EXAMPLE, INVALID / "unknown-package.yaml"]
    result = onenet("validate", *map(str, files))
    assert result.code == 1
    assert f"{files[0]}:12:13: users.anna.status:" in result.err
    assert f"{files[2]}:11:14: users.anna.package:" in result.err
    assert "site berlin-hq is valid" in result.out
    assert result.err.splitlines()[-1] == "2 errors in 2 of 3 files"


def test_warnings_do_not_fail_validation(onenet) -> None:
    result = onenet("validate", str(WARNING_SITE))
    assert result.code == 0
    assert (
        f"{WARNING_SITE}:14:81: hunt_groups.sales.members[1]: warning: karl is deactivated "
        "and stays in this hunt group; callers may reach the announcement"
    ) in result.err


def test_a_deactivated_agent_is_warned_of_a_supervisor_or_pickup_member_is_not(onenet) -> None:
    site = FIXTURES / "valid" / "deactivated-in-call-centre.yaml"
    result = onenet("validate", str(site))
    assert result.code == 0
    assert result.err.splitlines() == [
        f"{site}:15:83: call_centres.support.agents[1]: warning: karl is deactivated "
        "and stays in this call centre; callers may reach the announcement"
    ]


def test_json_format_is_one_list_of_problems(onenet) -> None:
    fixture = INVALID / "hunt-group-unknown-member.yaml"
    result = onenet("validate", "--format", "json", str(fixture))
    assert result.code == 1
    assert json.loads(result.out) == [
        {
            "file": str(fixture),
            "line": 17,
            "column": 21,
            "path": "hunt_groups.sales.members[1]",
            "severity": "error",
            "message": "unknown user `anan`",
            "hint": "did you mean `anna`?",
        }
    ]


def test_json_format_of_a_valid_site_is_an_empty_list(onenet) -> None:
    result = onenet("validate", "--format", "json", str(EXAMPLE))
    assert result.code == 0
    assert json.loads(result.out) == []


def test_missing_file(onenet, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = onenet("validate", str(missing))
    assert result.code == 1
    assert f"{missing}:1:1: cannot read the file: No such file or directory" in result.err


def test_usage_errors_exit_1_never_2(onenet) -> None:
    for args in (
        ["validate"],
        ["validate", "--format", "xml", str(EXAMPLE)],
        ["nonsense"],
        ["validate", "--bogus", str(EXAMPLE)],
    ):
        result = onenet(*args)
        assert result.code == 1, args
        assert "Error:" in result.err
        assert "Traceback" not in result.err


def test_help_and_version(onenet) -> None:
    assert onenet("--help").code == 0
    assert "validate" in onenet("--help").out
    version = onenet("--version")
    assert version.code == 0 and version.out.startswith("onenet, version ")


def test_console_entry_point_in_a_fresh_interpreter() -> None:
    ok = run_process("validate", str(EXAMPLE))
    assert ok.code == 0 and "is valid" in ok.out
    bad = run_process("validate", str(INVALID / "yaml-syntax-error.yaml"))
    assert bad.code == 1 and "YAML syntax error" in bad.err and "Traceback" not in bad.err
    usage = run_process("validate")
    assert usage.code == 1
