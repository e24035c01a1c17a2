"""Where each key and value of a loaded site came from.

The loader returns plain dicts, lists and scalars (fast to validate) and records,
beside them, the source marks of every container's entries, keyed by the
container's identity. Positions are only looked up when a problem is reported,
so the happy path pays for recording, never for searching.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, Literal

from onenet_apply.sitefile.problems import NeedsPositions, Path, Position, ProblemList

# A position packed in one int, `line << 32 | column` (both 1-based): a large site has
# over a million of them, kept in arrays of 64-bit numbers (a dict or list of ints
# costs five times the memory).
Mark = int
Anchor = Literal["key", "value"]
_LOW = (1 << 32) - 1


def mark(line: int, column: int) -> Mark:
    return (line << 32) | column


def line_col(packed: Mark) -> tuple[int, int]:
    return packed >> 32, packed & _LOW


def marks_array() -> array[int]:
    return array("Q")


@dataclass(slots=True)
class ContainerMarks:
    """Where a loaded mapping or list starts, and where each of its entries is."""

    file: str
    start: Mark
    # mapping: the key mark and the value mark of each entry, in the mapping's order
    # (a loaded mapping never changes); sequence: the mark of each item
    entries: array[int]
    positions: dict[str, int] | None = None  # mapping: key -> entry number, when first asked

    def entry(self, container: Any, part: str | int) -> tuple[Mark, Mark] | None:
        """The key and value marks of `container[part]` (an item's twice), if it has one."""
        entries = self.entries
        if isinstance(container, dict):
            if not isinstance(part, str):
                return None
            if self.positions is None:
                self.positions = {key: i for i, key in enumerate(container)}
            i = self.positions.get(part)
            return None if i is None else (entries[2 * i], entries[2 * i + 1])
        if isinstance(part, int) and 0 <= part < len(entries):
            return entries[part], entries[part]
        return None


@dataclass(slots=True)
class SourceMap:
    """Where every loaded value came from, so a problem found later can name its file,
    line and column."""

    root: Any = None
    root_file: str = ""
    containers: dict[int, ContainerMarks] = field(default_factory=dict)
    # Original text of unquoted scalars that YAML turned into numbers or booleans,
    # so a message can say "write it in quotes: "0221"".
    raw_scalars: dict[tuple[int, str | int], str] = field(default_factory=dict)

    positions: bool = True  # False: a read without positions (see NeedsPositions)

    def register(self, container: Any, marks: ContainerMarks) -> None:
        self.containers[id(container)] = marks

    def start_of(self, container: Any) -> Mark:
        """Where a registered mapping or list starts."""
        if not self.positions:
            raise NeedsPositions
        return self.containers[id(container)].start

    def locate(self, path: Path, at: Anchor = "value") -> Position:
        """The position of the value (or key) at `path`, or of its nearest ancestor."""
        if not self.positions:
            raise NeedsPositions
        node = self.root
        best = Position(self.root_file, 1, 1)
        for part in path:
            marks = self.containers.get(id(node))
            if marks is None:
                break
            entry = marks.entry(node, part)
            if entry is None:
                break
            key_mark, value_mark = entry
            best = Position(marks.file, *line_col(key_mark if at == "key" else value_mark))
            node = node[part]
        return best

    def raw_scalar(self, path: Path) -> str | None:
        if not path:
            return None
        parent = self.root
        for part in path[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return None
        return self.raw_scalars.get((id(parent), path[-1]))


@dataclass(slots=True)
class LoadedFile:
    """What loading a site file gives: data (None if unreadable), positions, problems."""

    path: str
    data: Any
    source: SourceMap
    problems: ProblemList
    # paths whose value the loader replaced (alias, bad tag): checks skip them
    poisoned: set[Path] = field(default_factory=set)
