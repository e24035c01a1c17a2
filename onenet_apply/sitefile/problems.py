"""Problems found in site files, each tied to a place in a file.

Every check in the pipeline reports through `Problem`, so the command line can
print them all in one format (`FILE:LINE:COL: dotted.path: message`) and in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Path = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A 1-based line and column in a file."""

    file: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a site file: where it is (file, line, column), the path of the
    value, what is wrong and a hint."""

    position: Position
    path: Path
    message: str
    hint: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def dotted_path(self) -> str:
        return dotted(self.path)

    def format(self) -> str:
        where = f"{self.position.file}:{self.position.line}:{self.position.column}"
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        text = (
            f"{where}: {self.dotted_path}: {prefix}{self.message}"
            if self.path
            else (f"{where}: {prefix}{self.message}")
        )
        if self.hint:
            text += f" ({self.hint})"
        return one_line(text)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.position.file,
            "line": self.position.line,
            "column": self.position.column,
            "path": self.dotted_path,
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        p = self.position
        return (p.file, p.line, p.column, self.message)


def one_line(text: str) -> str:
    """Escape what a terminal would not show as one visible character (a newline in
    a key, a bidi control in a name), so a problem is always one readable line."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def dotted(path: Path) -> str:
    """`('hunt_groups', 'sales', 'members', 1)` -> `hunt_groups.sales.members[1]`."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else str(part))
    return "".join(out)


class NeedsPositions(Exception):
    """A file read without positions has a problem to report: read it again with them.

    Positions (every value's line and column) are only ever needed to report a
    problem, and recording them is an eighth of reading a large file. So a site file
    is first read without them (`load_site_file(..., positions=False)`); the first
    problem ends that read, and the file is read and checked again with positions."""


@dataclass(slots=True)
class ProblemList:
    """Collects problems, capped so a huge broken file cannot flood the terminal."""

    limit: int = 1000
    items: list[Problem] = field(default_factory=list)
    dropped: int = 0
    positions: bool = True  # False: a read without positions, which no problem may end

    def need_positions(self) -> None:
        """Raise NeedsPositions when there are none to report a problem at."""
        if not self.positions:
            raise NeedsPositions

    def add(self, problem: Problem) -> None:
        self.need_positions()
        if len(self.items) < self.limit:
            self.items.append(problem)
        else:
            self.dropped += 1

    @property
    def has_errors(self) -> bool:
        return self.dropped > 0 or any(p.severity is Severity.ERROR for p in self.items)
