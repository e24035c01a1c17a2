"""The README shows what the tool prints: every ```console block is run as a reader
would type it, session by session, and its output compared (tests/readme_console.py
says how a block is marked and how `...` elides). A block that cannot run here (a
real platform, a server elsewhere) is marked as shown only, with the reason."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.readme_console import Block, console_blocks, matches, run_session

README = ROOT / "README.md"
BLOCKS = list(console_blocks(README))
SESSIONS = sorted({b.session for b in BLOCKS if b.session})


def test_every_console_block_is_run_or_says_why_not() -> None:
    unmarked = [b.line for b in BLOCKS if not b.session and not b.reason]
    assert unmarked == [], f"README.md lines {unmarked}: add <!-- console: SESSION -->"
    assert len(SESSIONS) >= 3
    run = sum(len(b.commands) for b in BLOCKS if b.session)
    assert run >= 30  # most of what the README shows is run


@pytest.mark.parametrize("session", SESSIONS)
def test_a_readme_session_prints_what_the_readme_shows(session: str, tmp_path: Path) -> None:
    blocks: list[Block] = [b for b in BLOCKS if b.session == session]
    commands = [c for b in blocks for c in b.commands]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ONENET_", "PG", "GITHUB_", "CI_", "COLUMNS"))
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",  # stdout and stderr in the order a terminal shows them
        NO_COLOR="1",
        COLUMNS="100",
    )
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    fixtures = ROOT / "tests" / "fixtures" / "readme" / session
    if fixtures.is_dir():  # files the session's text says it has (broken.yaml)
        shutil.copytree(fixtures, tmp_path, dirs_exist_ok=True)
    outputs = run_session(commands, tmp_path, env)
    assert len(outputs) == len(commands)
    for command, actual in zip(commands, outputs, strict=True):
        assert matches(command.expected, actual), (
            f"README.md:{command.line}: $ {command.text}\n"
            f"README shows:\n" + "\n".join(command.expected) + "\n"
            "the tool prints:\n" + "\n".join(actual)
        )


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "c"], False),
        (["a"], ["a", "b"], False),  # nothing left out silently
        (["a", "...", "z"], ["a", "b", "c", "z"], True),
        (["a", "...", "z"], ["a", "z"], True),
        (["a", "...", "z"], ["a", "b"], False),
        (["Wrote 3 to f-....csv"], ["Wrote 3 to f-20261126T1015Z.csv"], True),
        (["Wrote 3 to f-....csv"], ["Wrote 4 to f-20261126T1015Z.csv"], False),
        ([], [], True),
        ([], ["x"], False),
    ],
)
def test_how_an_expected_output_matches(expected: list[str], actual: list[str], ok: bool) -> None:
    assert matches(expected, actual) is ok
