"""The README's console blocks, read as sessions to run and compare.

Every ```console block in README.md is preceded by a marker line:

    <!-- console: NAME -->          run it, in the session NAME
    <!-- console: shown: REASON --> shown only (e.g. it needs a real platform)

Blocks of one session run in order, in one working directory of their own (with
`examples/` of this repository, and the files of tests/fixtures/readme/SESSION/), in
bash, as a reader would type them (`$ ` lines are commands; the lines after one,
up to the next, are what it prints, stdout and stderr as a terminal shows them).
In what it prints, a line `...` stands for any number of lines, and `...` inside
a line for any text (a time stamp, a pid); everything else must match exactly.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MARKER = re.compile(r"<!-- console: (?P<what>[^>]*?) -->")
SHOWN = "shown: "
_SEPARATOR = "@@onenet-readme-command {}@@"


@dataclass
class Command:
    line: int  # where in README.md
    text: str  # without the `$ `
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    line: int
    session: str  # "" for a block shown only
    reason: str  # why a shown-only block is not run
    commands: list[Command]


def console_blocks(readme: Path) -> Iterator[Block]:
    """Every ```console block of `readme`, with its marker (a block without one is
    yielded with session and reason empty: the caller fails it)."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```console":
            index += 1
            continue
        start = index
        marker = _marker_before(lines, start)
        commands: list[Command] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            text = lines[index]
            if text.startswith("$ "):
                commands.append(Command(index + 1, text[2:]))
            elif commands:
                commands[-1].expected.append(text)
            index += 1
        session, reason = "", ""
        if marker is not None:
            if marker.startswith(SHOWN):
                reason = marker.removeprefix(SHOWN)
            else:
                session = marker
        yield Block(start + 1, session, reason, commands)
        index += 1


def _marker_before(lines: list[str], start: int) -> str | None:
    for back in range(start - 1, max(start - 3, -1), -1):
        found = MARKER.fullmatch(lines[back].strip())
        if found:
            return found.group("what")
        if lines[back].strip():
            return None
    return None


def run_session(commands: list[Command], cwd: Path, env: dict[str, str]) -> list[list[str]]:
    """Each command's output lines, the commands run in one bash, one after another
    (so `echo $?` sees the command before it)."""
    script = ["set +e"]
    for number, command in enumerate(commands):
        # the separator keeps $? of the command before it, for `echo $?`
        script.append(f"__rc=$?; printf '%s\\n' '{_SEPARATOR.format(number)}'; (exit $__rc)")
        script.append(command.text)
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=600,
    )  # fmt: skip
    outputs: list[list[str]] = []
    for text in proc.stdout.splitlines():
        if text == _SEPARATOR.format(len(outputs)):
            outputs.append([])
        elif outputs:
            outputs[-1].append(text)
    return outputs


def matches(expected: list[str], actual: list[str]) -> bool:
    """`actual` as `expected` describes it: `...` lines any lines, `...` in a line any
    text."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[skip:]) for skip in range(len(actual) + 1))
    return bool(actual) and _line_matches(head, actual[0]) and matches(rest, actual[1:])


def _line_matches(expected: str, actual: str) -> bool:
    if "..." not in expected:
        return expected.rstrip() == actual.rstrip()
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("..."))
    return re.fullmatch(pattern, actual.rstrip()) is not None
