"""The loader's state: the containers being built, and what a site's files share."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

from onenet_apply.sitefile.problems import Path, ProblemList
from onenet_apply.sitefile.reading import LoadAborted
from onenet_apply.sitefile.sourcemap import Mark, SourceMap

NO_KEY = object()  # a mapping expects a key next
# what reading each file of a site gave, by the path read: its text and size in
# bytes, or why it could not be read
FileReads = dict[str, "tuple[str, int] | LoadAborted"]


@dataclass(slots=True)
class Frame:
    """A mapping or list being built, and the marks of its entries so far."""

    container: dict[str, Any] | list[Any]
    marks: array[int]  # see ContainerMarks.entries
    key: Any = None  # mappings: the pending key, or NO_KEY when a key is expected
    key_mark: Mark = 0
    bad_key: bool = False
    bad_key_name: str | None = None  # a key that is not a string, as written: for paths


@dataclass(slots=True)
class Session:
    """State shared by a top file and everything it includes."""

    root_dir: str
    source: SourceMap
    problems: ProblemList
    poisoned: set[Path]
    include_stack: list[str] = field(default_factory=list)
    files_read: int = 0
    bytes_read: int = 0
    keys: dict[str, str] = field(default_factory=dict)  # one string per distinct field name
    reads: FileReads = field(default_factory=dict)
