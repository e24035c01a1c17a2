"""One invalid site file per error class; each states its expected problems.

A fixture ends with `# expect: LINE:COL: dotted.path: message (hint)` lines. The
test asserts exit code 1 and that the reported problems are *exactly* those:
the right place, the right words, and no cascade of follow-on errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, FIXTURES

INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
VALID = [
    *sorted((FIXTURES / "valid").glob("*.yaml")),
    FIXTURES / "valid" / "split" / "site.yaml",
    EXAMPLE,
]


def expected_problems(path: Path) -> list[str]:
    prefix = "# expect: "
    return [
        line[len(prefix) :]
        for line in path.read_text("utf-8").splitlines()
        if line.startswith(prefix)
    ]


def test_there_are_at_least_forty_error_classes() -> None:
    assert len(INVALID) >= 40


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_exactly_its_problems(fixture: Path, onenet) -> None:
    expected = expected_problems(fixture)
    assert expected, f"{fixture.name} states no expected problem"
    result = onenet("validate", str(fixture))
    assert result.code == 1
    assert "Traceback" not in result.err
    prefix = f"{fixture}:"
    reported = [line[len(prefix) :] for line in result.err.splitlines() if line.startswith(prefix)]
    assert reported == expected
    assert result.out == ""


@pytest.mark.parametrize("fixture", VALID, ids=lambda p: p.parent.name + "/" + p.stem)
def test_valid_fixture_passes(fixture: Path, onenet) -> None:
    result = onenet("validate", str(fixture))
    assert result.code == 0, result.err
    assert "is valid" in result.out
    assert "error" not in result.err


def test_every_fixture_is_a_distinct_case() -> None:
    # path and message, without the position: no two fixtures test the same thing
    cases = [tuple(p.split(": ", 1)[1] for p in expected_problems(f)) for f in INVALID]
    assert len(set(cases)) == len(cases)
