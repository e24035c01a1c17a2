"""The command line's own edges, through the real CLI: output that cannot be written,
floods of problems, a prompt that gets no answer, a reader that went away."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tests.test_cli_apply import _Terminal
from tests.test_saved_plans import users


def test_plan_out_into_a_missing_directory_is_one_clear_error(onenet, workdir: Path) -> None:
    result = onenet("plan", str(EXAMPLE), "--out", "nowhere/plan.json")
    assert result.code == 1
    assert result.err == "Error: cannot write nowhere/plan.json: nowhere does not exist\n"
    assert result.out == ""  # found before planning, so no plan is printed first
    assert not (workdir / "nowhere").exists()


def test_a_plan_that_cannot_be_stored_leaves_no_temporary_file(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is written whole or not at all: a failed write takes its temporary away."""

    def disk_full(source: str, target: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", disk_full)
    result = onenet("plan", str(EXAMPLE), "--out", "plan.json")
    assert result.code == 1
    assert result.err == "Error: cannot write plan.json: No space left on device\n"
    assert sorted(p.name for p in workdir.iterdir()) == [".onenet"]


def test_a_flood_of_problems_is_capped_and_counted(onenet, tmp_path: Path) -> None:
    rows = "".join(
        f'  u{i}: {{first_name: U, last_name: V, number: "+4930{1000000 + i}", '
        f"package: standard, colour: red}}\n"
        for i in range(1005)
    )
    site = tmp_path / "site.yaml"
    site.write_text(f"version: 1\nsite: {{id: s, name: S, country: DE}}\nusers:\n{rows}")
    result = onenet("validate", str(site))
    assert result.code == 1
    lines = result.err.splitlines()
    assert sum("unknown key `colour`" in line for line in lines) == 1000
    assert f"{site}: ... and 5 more problems" in lines


def test_a_prompt_that_gets_no_answer_aborts_and_applies_nothing(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(""))  # end of input at the prompt
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    result = onenet("apply", str(EXAMPLE))
    assert result.code == 1
    assert result.err.endswith("Aborted.\n")
    assert "Traceback" not in result.err
    assert users(workdir) == set()


def test_a_reader_gone_before_the_first_line_ends_the_command_quietly(tmp_path: Path) -> None:
    """validate's one line meets a closed pipe: exit 1, nothing on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "onenet_apply", "validate", str(EXAMPLE)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1
    assert err == b""

