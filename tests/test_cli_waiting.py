"""`onenet apply --wait-activation` says on stderr what it waits for, with counts and
the time left: often on a terminal, once in a while in a log."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from onenet_apply.apply import waiting
from tests.conftest import EXAMPLE

WAITING = re.compile(
    r"Waiting for 12 users, 2 hunt groups and 1 call centre to be activated "
    r"\(4 deferred actions; up to (\d+) s left\)\.\.\."
)


def test_waiting_is_said_once_in_a_while_in_a_log(onenet, workdir: Path) -> None:
    result = onenet("apply", str(EXAMPLE), "--yes", "--wait-activation", "2")
    assert result.code == 3, result.err
    lines = [line for line in result.err.splitlines() if line.startswith("Waiting")]
    assert len(lines) == 1, result.err  # a log gets a line per LOG_EVERY seconds
    assert WAITING.fullmatch(lines[0]), lines[0]
    assert lines[0] not in result.out


def test_waiting_is_said_every_few_seconds_on_a_terminal(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(waiting, "TERMINAL_EVERY", 0.5)
    result = onenet("apply", str(EXAMPLE), "--yes", "--wait-activation", "3")
    assert result.code == 3, result.err
    left = [int(m[1]) for m in map(WAITING.fullmatch, result.err.splitlines()) if m]
    assert len(left) >= 3, result.err
    assert left == sorted(left, reverse=True) and left[0] == 3


def test_a_small_wait_is_said_in_the_singular_and_ends_with_the_activations(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onenet_apply.backends.sandbox import SandboxBackend

    monkeypatch.setattr(waiting, "LOG_EVERY", 0.0)
    with_one = workdir / "site.yaml"
    with_one.write_text(
        "version: 1\nsite: {id: tiny, name: Tiny, country: DE}\nusers:\n"
        '  anna: {first_name: Anna, last_name: Berg, number: "030 12345601", package: standard}\n'
        "hunt_groups:\n"
        '  sales: {name: Sales, number: "030 12345650", policy: circular, members: [anna]}\n'
    )
    SandboxBackend(workdir / ".onenet" / "sandbox.db").configure("tiny", activation="after:1")
    result = onenet("apply", str(with_one), "--yes", "--wait-activation", "20")
    assert result.code == 0, result.err
    said = [line for line in result.err.splitlines() if line.startswith("Waiting")]
    assert said[0].startswith(
        "Waiting for 1 user and 1 hunt group to be activated (1 deferred action; up to 20 s"
    ), said
    assert "Apply: 3 applied, 0 deferred" in result.out
