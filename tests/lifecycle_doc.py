"""The lifecycle table of docs/lifecycle.md, read for the tests that check it.

Both the planner's and the sandbox's lifecycle tests take their expectations from
the document, so the page that explains the rules is the one the code is held to."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import ROOT

DOC = ROOT / "docs" / "lifecycle.md"
HEADING = "## What may change in which state"
STATES = ("pending", "activated", "deactivated", "failed")
NO_ACTION = "—"


@dataclass(frozen=True)
class Cell:
    allowed: bool  # the platform accepts the change in this state
    status: str | None  # the plan status, None when the change is no plan action


def _cell(text: str) -> Cell:
    verdict, status = (part.strip() for part in text.split(","))
    assert verdict in ("yes", "no") and status in ("ready", "deferred", "blocked", NO_ACTION)
    return Cell(verdict == "yes", None if status == NO_ACTION else status)


def lifecycle_table() -> dict[str, dict[str, Cell]]:
    """change -> state -> cell, from the first table under HEADING."""
    lines = DOC.read_text("utf-8").splitlines()
    start = lines.index(HEADING)
    rows = []
    for line in lines[start:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    header, _rule, *body = rows
    assert header == ["change", "covers", *STATES], header
    return {
        row[0]: {state: _cell(text) for state, text in zip(STATES, row[2:], strict=True)}
        for row in body
    }
