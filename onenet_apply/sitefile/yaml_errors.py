"""libyaml's errors as one problem each, at the place it names."""

from __future__ import annotations

import yaml

from onenet_apply.sitefile.problems import Position, Problem
from onenet_apply.sitefile.reading import LoadAborted, byte_line_col


def refusal(e: yaml.YAMLError, display: str, text: str, max_depth: int) -> LoadAborted:
    """The load's end for a syntax error (or unreadable text) in file `display`."""
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        detail = e.problem or "invalid YAML"
        if "maximum nesting depth" in detail:
            # newer libyaml builds stop deep flow nesting in their scanner,
            # before our own guard sees the events: one message either way
            message = f"nesting is deeper than {max_depth} levels"
            return LoadAborted(Problem(Position(display, line, col), (), message))
        if e.context:
            detail = f"{detail} ({e.context})"
        return LoadAborted(Problem(Position(display, line, col), (), f"YAML syntax error: {detail}"))
    # reader errors: control characters and the like
    position = getattr(e, "position", None)
    line, col = (1, 1)
    if isinstance(position, int):
        line, col = byte_line_col(text.encode("utf-8"), position)
    reason = getattr(e, "reason", None) or str(e)
    return LoadAborted(Problem(Position(display, line, col), (), f"unreadable YAML: {reason}"))
