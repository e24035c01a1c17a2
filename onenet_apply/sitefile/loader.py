"""Strict, position-tracking YAML loading for site files.

One streaming pass over libyaml's event stream builds plain Python data and a
`SourceMap` beside it. Streaming (rather than composing a node tree and then
constructing) keeps every hostile-input guard in one loop and lets each guard
act *before* libyaml does the costly part:

- nesting deeper than `MAX_DEPTH` stops at once (libyaml and its node composer
  are quadratic in depth, and the C composer overflows the stack on deep input);
- aliases are refused where they appear, so a "billion laughs" file never
  expands;
- only plain YAML types are built; `!include FILE` is the one local tag, and no
  tag ever constructs an object;
- duplicate keys are errors at the second key, never a silent overwrite;
- YAML 1.1 number forms that read as something else than written (`010` is 8,
  `0x10` is 16, `1:30` is 90, `1_000` is 1000) are errors that say so;
- text is read in Unicode NFC form, so a decomposed `é` is one character.

Reading the bytes (size limits, pipes, what a path is) is `reading`'s.
"""

from __future__ import annotations

import operator
import os
import unicodedata
from collections import deque
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from onenet_apply.gcpause import gc_paused
from onenet_apply.sitefile.load_reporting import BAD_KEY as _BAD_KEY
from onenet_apply.sitefile.load_reporting import LoadReporting
from onenet_apply.sitefile.load_state import NO_KEY, FileReads, Frame, Session
from onenet_apply.sitefile.problems import Path, Position, Problem, ProblemList
from onenet_apply.sitefile.reading import (
    LoadAborted,
    decode,
    not_a_file,
    read_bytes,
    top_paths,
)
from onenet_apply.sitefile.scalars import (
    CONVERT,
    MAP,
    NULL,
    RESOLVER,
    SEQ,
    STR,
    TAG,
    TIMESTAMP,
    WORD_FIRST,
    WORDS_NOT_TEXT,
    text,
    yaml11_number,
)
from onenet_apply.sitefile.sourcemap import (
    ContainerMarks,
    LoadedFile,
    Mark,
    SourceMap,
    line_col,
    marks_array,
)
from onenet_apply.sitefile.sourcemap import mark as pack
from onenet_apply.sitefile.yaml_errors import refusal

MAX_DEPTH = 32
MAX_INCLUDED_FILES = 1000
INCLUDE_TAG = "!include"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# plain scalars whose first character starts no implicit type are strings: no lookup
_TYPED_FIRST = frozenset(RESOLVER.yaml_implicit_resolvers)
_FAST_STRINGS = None not in _TYPED_FIRST  # no resolver for any first character
_RESOLVED_KEPT = 4096  # distinct plain scalars whose resolution is remembered
_SHARED_KEYS_DEPTH = 3  # keys of entries (a user's first_name ...): one string each


def load_site_file(
    path: str, *, positions: bool = True, reads: FileReads | None = None
) -> LoadedFile:
    """Load a site file (and its includes). Never raises for bad input, but a load
    without `positions` raises NeedsPositions at its first problem. `reads` keeps each
    file's bytes for a second load to see the same (a pipe can be read once)."""
    problems = ProblemList(positions=positions)
    source = SourceMap(root_file=path, positions=positions)
    loaded = LoadedFile(path=path, data=None, source=source, problems=problems)
    real, opened = top_paths(path)
    session = Session(os.path.dirname(real), source, problems, loaded.poisoned)
    if reads is not None:
        session.reads = reads
    try:
        with gc_paused():
            data = _load_file(session, path, real, (), opened)
    except LoadAborted as stop:
        problems.add(stop.problem)
        return loaded
    if data is not None and not isinstance(data, dict):
        problems.add(
            Problem(
                Position(path, 1, 1),
                (),
                f"a site file must be a mapping (version, site, users, ...), not {_kind(data)}",
            )
        )
        return loaded
    loaded.data = data
    source.root = data
    return loaded


def _read_text(session: Session, display: str, real: str) -> str:
    """The text of one file of the site, within what is left of the size budget."""
    read = session.reads.get(real)
    if read is None:
        try:
            raw = read_bytes(display, real, session.bytes_read)
            read = (decode(display, raw), len(raw))
        except LoadAborted as refused:
            read = refused
        session.reads[real] = read
    if isinstance(read, LoadAborted):
        raise read
    text, size = read
    session.bytes_read += size
    return text


def _load_file(
    session: Session, display: str, real: str, at: Path, opened: str | None = None
) -> Any:
    text = _read_text(session, display, opened or real)
    session.include_stack.append(real)
    try:
        data = _Builder(session, display, at).build(text) if text.strip() else None
    finally:
        session.include_stack.pop()
    if data is None:
        raise LoadAborted(Problem(Position(display, 1, 1), at, "the file is empty"))
    return data


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a single value ({value!r})"


class _Builder(LoadReporting):
    """Turns one file's event stream into data, recording marks as it goes."""

    def __init__(self, session: Session, display: str, at: Path) -> None:
        self.session = session
        self.display = display
        self.at = at  # path of this file's root value within the whole site
        self.stack: list[Frame] = []
        self.resolved: dict[str, str] = {}
        self._raw: str | None = None
        self._last_scalar: Any = None
        self.marking = session.source.positions  # record where each value is

    # -- the event loop -------------------------------------------------
    def build(self, text: str) -> Any:
        parser = _Loader(text)
        try:
            return self._run(parser)
        except yaml.YAMLError as e:
            raise refusal(e, self.display, text, MAX_DEPTH) from None
        finally:
            dispose = getattr(parser, "dispose", None)
            if dispose:
                dispose()

    def _run(self, parser: Any) -> Any:
        get_event = parser.get_event
        stack = self.stack
        keys = self.session.keys
        marking = self.marking
        root: Any = None
        documents = 0
        while True:
            event = get_event()
            cls = type(event)
            if cls is ScalarEvent:
                if marking:
                    start_mark = event.start_mark
                    where = ((start_mark.line + 1) << 32) | (start_mark.column + 1)
                else:
                    where = 0
                value = event.value
                if (
                    stack
                    and event.tag is None
                    and (
                        not event.implicit[0]
                        or (
                            _FAST_STRINGS
                            and value
                            and (
                                value[:1] not in _TYPED_FIRST
                                or (value[:1] in WORD_FIRST and value not in WORDS_NOT_TEXT)
                            )
                        )
                    )
                ):
                    # a string in a mapping or list, quoted or plain: most of a site.
                    # What `_add(_scalar(event))` does for it, without the calls.
                    if not value.isascii():
                        value = unicodedata.normalize("NFC", value)
                    frame = stack[-1]
                    container = frame.container
                    if type(container) is list:
                        container.append(value)
                        frame.marks.append(where)
                    elif frame.key is NO_KEY:
                        if len(stack) >= _SHARED_KEYS_DEPTH:
                            value = keys.setdefault(value, value)
                        frame.key = value
                        frame.key_mark = where
                    elif frame.key is not _BAD_KEY and frame.key not in container:
                        container[frame.key] = value  # type: ignore[index]
                        frame.marks.append(frame.key_mark)
                        frame.marks.append(where)
                        frame.key = NO_KEY
                    else:
                        self._add(value, where)
                    continue
                self._add(self._scalar(event), where)
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                stack.append(self._open(event, cls is MappingStartEvent))
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                whole = self._close(stack.pop())
                if whole is not None:
                    root = whole
            elif cls is AliasEvent:
                where = pack(event.start_mark.line + 1, event.start_mark.column + 1)
                self._poison(
                    where,
                    f"YAML aliases (*{event.anchor}) are not supported: write the value out",
                )
                self._add(_POISON, where)
            elif cls is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self._abort(
                        pack(event.start_mark.line + 1, event.start_mark.column + 1),
                        "a site file holds one YAML document; found a second one",
                    )
            elif cls is StreamEndEvent:
                return root
            if not stack and cls is ScalarEvent:
                root = self._last_scalar

    def _open(self, event: Any, mapping: bool) -> Frame:
        """The frame of a mapping or list that starts at `event`."""
        start_mark = event.start_mark
        start = pack(start_mark.line + 1, start_mark.column + 1)
        if len(self.stack) >= MAX_DEPTH:
            self._abort(start, f"nesting is deeper than {MAX_DEPTH} levels")
        self._check_collection_tag(event, start)
        marks = marks_array() if self.marking else _NO_MARKS
        frame = Frame({}, marks, NO_KEY) if mapping else Frame([], marks)
        frame.bad_key = self._expecting_key()
        if self.marking:
            self.session.source.register(
                frame.container, ContainerMarks(self.display, start, marks)
            )
        return frame

    def _close(self, frame: Frame) -> Any:
        """Put a finished mapping or list where it belongs; the file's root value, which
        belongs nowhere yet, is returned."""
        stack, source = self.stack, self.session.source
        if frame.bad_key:
            # a mapping or list used as a key: report, then drop the entry
            self._problem(
                source.start_of(frame.container),
                "a key must be a plain string, not a mapping or list",
            )
            self._add(_BAD_KEY, source.start_of(frame.container))
        elif stack:
            self._add(frame.container, source.start_of(frame.container) if self.marking else 0)
        else:
            return frame.container
        return None

    # -- values ---------------------------------------------------------
    def _scalar(self, event: ScalarEvent) -> Any:
        tag = event.tag
        value = event.value
        if tag is None or tag == "!":
            if not event.implicit[0]:  # quoted: always a string
                return text(value)
            tag = self.resolved.get(value)
            if tag is None:
                tag = RESOLVER.resolve(ScalarNode, value, (True, False))
                if len(self.resolved) < _RESOLVED_KEPT:
                    self.resolved[value] = tag
        if tag == STR:
            return text(value)
        if tag == NULL:
            self._raw = value if value.isalpha() else None  # `Null`: a name that wants quotes?
            return None
        if tag == TIMESTAMP:
            return value  # dates are not site values; keep the text as written
        convert = CONVERT.get(tag)
        where = pack(event.start_mark.line + 1, event.start_mark.column + 1)
        if convert is not None:
            try:
                result = convert(ScalarNode(tag, value))
            except (ConstructorError, ValueError):
                self._poison(where, f"`{value}` is not a valid {tag.removeprefix(TAG)}")
                return _POISON
            misread = yaml11_number(value, result)
            if misread:
                self._poison(where, misread)
                return _POISON
            self._raw = value
            return result
        if tag == INCLUDE_TAG:
            return self._include(value, where)
        self._poison(where, f"unsupported YAML tag {tag}: site files hold plain values only")
        return _POISON

    def _check_collection_tag(self, event: Any, where: Mark) -> None:
        tag = event.tag
        if tag is not None and tag not in ("!", MAP, SEQ):
            self._abort(where, f"unsupported YAML tag {tag} on a mapping or list")

    def _include(self, target: str, where: Mark) -> Any:
        if "\0" in target:
            self._poison(where, f"!include {target!r}: a file name cannot hold a NUL character")
            return _POISON
        session = self.session
        including_dir = os.path.dirname(session.include_stack[-1])
        real = os.path.realpath(os.path.join(including_dir, target))
        display = os.path.normpath(os.path.join(self._display_dir(), target))
        path = self._path()
        if (
            os.path.isabs(target)
            or os.path.commonpath([session.root_dir, real]) != session.root_dir
        ):
            self._poison(
                where,
                f"!include {target}: included files must stay inside "
                f"the directory of the top site file",
            )
            return _POISON
        if real in session.include_stack:
            self._poison(where, f"!include {target}: include cycle ({target} includes itself)")
            return _POISON
        if not os.path.isfile(real):
            self._poison(where, f"!include {target}: {not_a_file(real)}")
            return _POISON
        session.files_read += 1
        if session.files_read > MAX_INCLUDED_FILES:
            self._abort(where, f"more than {MAX_INCLUDED_FILES} included files")
        try:
            return _load_file(session, display, real, path)
        except LoadAborted as stop:
            session.problems.add(stop.problem)
            session.poisoned.add(path)
            return _POISON

    def _display_dir(self) -> str:
        """The directory this file's includes are shown in: the one they resolve in,
        which for /dev/stdin is the real file's or (for a pipe) the current one."""
        shown = os.path.dirname(self.display)
        if self.at:
            return shown
        real_dir = os.path.dirname(self.session.include_stack[0])
        if os.path.realpath(shown or ".") == real_dir:
            return shown
        return os.path.relpath(real_dir)

    # -- building containers ------------------------------------------------
    def _expecting_key(self) -> bool:
        return (
            bool(self.stack)
            and isinstance(self.stack[-1].container, dict)
            and (self.stack[-1].key is NO_KEY)
        )

    def _add(self, value: Any, where: Mark) -> None:
        self._last_scalar = value
        raw, self._raw = self._raw, None
        if not self.stack:
            return
        frame = self.stack[-1]
        container = frame.container
        if type(container) is list:
            if raw is not None:
                self.session.source.raw_scalars[(id(container), len(container))] = raw
            container.append(None if value is _POISON else value)
            frame.marks.append(where)  # type: ignore[union-attr]
            return
        if frame.key is NO_KEY:
            frame.key, frame.key_mark = value, where
            if value is _POISON:
                frame.key = _BAD_KEY
            elif type(value) is str:
                if len(self.stack) >= _SHARED_KEYS_DEPTH:
                    frame.key = self.session.keys.setdefault(value, value)
            elif value is not _BAD_KEY:
                self._bad_key(value, where, raw)
            return
        key, frame.key = frame.key, NO_KEY
        if key is _BAD_KEY:
            frame.bad_key_name = None
            return
        if key in container:
            problems = self.session.problems
            problems.need_positions()
            if len(problems.items) >= problems.limit:  # it would be dropped: only count it
                problems.dropped += 1
                return
            first = line_col(frame.marks[2 * operator.indexOf(container, key)])
            self._problem(
                frame.key_mark,
                f"duplicate key `{key}` (first defined at line {first[0]})",
                (*self._path(), key),
            )
            return
        if raw is not None:
            self.session.source.raw_scalars[(id(container), key)] = raw
        container[key] = None if value is _POISON else value  # type: ignore[index]
        frame.marks.append(frame.key_mark)
        frame.marks.append(where)


_POISON = object()
_NO_MARKS: Any = deque(maxlen=0)  # a read without positions: every mark dropped
