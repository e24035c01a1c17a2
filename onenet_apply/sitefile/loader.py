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

A site file may be a FIFO or a pipe (`onenet validate /dev/stdin < site.yaml`): it
is read until its writer closes it, and given up with a clear error when nothing
arrives for `STREAM_IDLE_SECONDS` (a FIFO with no writer never hangs a run).
"""

from __future__ import annotations

import os
import re
import select
import stat
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
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
from onenet_apply.sitefile.problems import Path, Position, Problem, ProblemList
from onenet_apply.sitefile.schema import describe
from onenet_apply.sitefile.sourcemap import ContainerMarks, Mark, SourceMap, line_col, pair
from onenet_apply.sitefile.sourcemap import mark as pack

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 32
MAX_INCLUDED_FILES = 1000
INCLUDE_TAG = "!include"
STREAM_IDLE_SECONDS = 10.0

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_TIMESTAMP, _MAP, _SEQ = _TAG + "timestamp", _TAG + "map", _TAG + "seq"
_constructor = SafeConstructor()
_CONVERT = {
    _INT: _constructor.construct_yaml_int,
    _FLOAT: _constructor.construct_yaml_float,
    _BOOL: _constructor.construct_yaml_bool,
}


class LoadAborted(Exception):
    """A problem after which the rest of the file cannot be read."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(slots=True)
class LoadedFile:
    """What loading a site file gives: data (None if unreadable), positions, problems."""

    path: str
    data: Any
    source: SourceMap
    problems: ProblemList
    # paths whose value the loader replaced (alias, bad tag): checks skip them
    poisoned: set[Path] = field(default_factory=set)


@dataclass(slots=True)
class _Frame:
    container: dict[str, Any] | list[Any]
    marks: dict[str, int] | list[Mark]
    key: Any = None  # mappings: the pending key, or _NO_KEY when a key is expected
    key_mark: Mark = 0
    bad_key: bool = False
    bad_key_name: str | None = None  # a key that is not a string, as written: for paths


_NO_KEY = object()


@dataclass(slots=True)
class _Session:
    """State shared by a top file and everything it includes."""

    root_dir: str
    source: SourceMap
    problems: ProblemList
    poisoned: set[Path]
    include_stack: list[str] = field(default_factory=list)
    files_read: int = 0
    bytes_read: int = 0


def load_site_file(path: str) -> LoadedFile:
    """Load a site file (and its includes). Never raises for bad input."""
    problems = ProblemList()
    source = SourceMap(root_file=path)
    loaded = LoadedFile(path=path, data=None, source=source, problems=problems)
    real, opened = _top_paths(path)
    session = _Session(os.path.dirname(real), source, problems, loaded.poisoned)
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


def _top_paths(path: str) -> tuple[str, str]:
    """The real path of the top file (includes resolve beside it) and the path to open.

    A pipe such as /dev/stdin has no directory of its own: its includes resolve in
    the current directory."""
    try:
        real = os.path.realpath(path)
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return path, path  # reported when the file is read
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or os.path.exists(real):
        return real, real
    return os.path.join(os.getcwd(), os.path.basename(path)), path


def _load_file(
    session: _Session, display: str, real: str, at: Path, opened: str | None = None
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


def _read_text(session: _Session, display: str, real: str) -> str:
    start = Position(display, 1, 1)
    try:
        info = os.stat(real)
        if stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
            raw = _read_stream(real, display, MAX_FILE_BYTES - session.bytes_read)
            return _decode(session, display, raw)
        size = info.st_size
        if size > MAX_FILE_BYTES or session.bytes_read + size > MAX_FILE_BYTES:
            raise LoadAborted(
                Problem(
                    start,
                    (),
                    f"the site is too large ({size:,} bytes); the limit is "
                    f"{MAX_FILE_BYTES // (1024 * 1024)} MB in all",
                )
            )
        with open(real, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except LoadAborted:
        raise
    except IsADirectoryError:
        raise LoadAborted(Problem(start, (), "is a directory, not a site file")) from None
    except OSError as e:
        raise LoadAborted(Problem(start, (), f"cannot read the file: {e.strerror}")) from None
    except ValueError:  # a NUL in the path
        raise LoadAborted(Problem(start, (), "the file name holds a NUL character")) from None
    return _decode(session, display, raw)


def _read_stream(path: str, display: str, limit: int) -> bytes:
    """Read a FIFO, pipe or terminal to its end, giving up when it stays silent.

    A named FIFO that reports its end before any byte arrived has no writer yet:
    wait for one, up to `STREAM_IDLE_SECONDS`. Other streams end where they end."""
    named_fifo = stat.S_ISFIFO(os.stat(path).st_mode) and os.path.exists(os.path.realpath(path))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + STREAM_IDLE_SECONDS
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                what = "no writer opened the FIFO" if named_fifo and not chunks else "no data"
                raise LoadAborted(
                    Problem(
                        Position(display, 1, 1),
                        (),
                        f"{what} within {STREAM_IDLE_SECONDS:g} s; "
                        "write the site file to it, or give a file instead",
                    )
                )
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.05))
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if chunk:
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise LoadAborted(
                        Problem(
                            Position(display, 1, 1),
                            (),
                            f"the site is too large; the limit is "
                            f"{MAX_FILE_BYTES // (1024 * 1024)} MB in all",
                        )
                    )
                deadline = time.monotonic() + STREAM_IDLE_SECONDS
            elif chunks or not named_fifo:
                return b"".join(chunks)
            else:
                time.sleep(0.05)  # the end of a FIFO no writer has opened yet
    finally:
        os.close(fd)


def _decode(session: _Session, display: str, raw: bytes) -> str:
    session.bytes_read += len(raw)
    if b"\0" in raw:
        line, col = _line_col(raw, raw.index(b"\0"))
        raise LoadAborted(
            Problem(Position(display, line, col), (), "this is a binary file, not YAML text")
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line, col = _line_col(raw, e.start)
        raise LoadAborted(
            Problem(
                Position(display, line, col),
                (),
                f"the file is not valid UTF-8 (byte 0x{raw[e.start]:02x}); save it as UTF-8",
            )
        ) from None


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", "replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a single value ({value!r})"


class _Builder:
    """Turns one file's event stream into data, recording marks as it goes."""

    def __init__(self, session: _Session, display: str, at: Path) -> None:
        self.session = session
        self.display = display
        self.at = at  # path of this file's root value within the whole site
        self.stack: list[_Frame] = []
        self.resolved: dict[str, str] = {}
        self._raw: str | None = None
        self._last_scalar: Any = None

    # -- the event loop -------------------------------------------------
    def build(self, text: str) -> Any:
        parser = _Loader(text)
        try:
            return self._run(parser)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            detail = e.problem or "invalid YAML"
            if "maximum nesting depth" in detail:
                # newer libyaml builds stop deep flow nesting in their scanner,
                # before our own guard sees the events: one message either way
                raise LoadAborted(
                    Problem(
                        Position(self.display, line, col),
                        (),
                        f"nesting is deeper than {MAX_DEPTH} levels",
                    )
                ) from None
            if e.context:
                detail = f"{detail} ({e.context})"
            raise LoadAborted(
                Problem(Position(self.display, line, col), (), f"YAML syntax error: {detail}")
            ) from None
        except yaml.YAMLError as e:  # reader errors: control characters and the like
            position = getattr(e, "position", None)
            line, col = (1, 1)
            if isinstance(position, int):
                line, col = _line_col(text.encode("utf-8"), position)
            reason = getattr(e, "reason", None) or str(e)
            raise LoadAborted(
                Problem(Position(self.display, line, col), (), f"unreadable YAML: {reason}")
            ) from None
        finally:
            dispose = getattr(parser, "dispose", None)
            if dispose:
                dispose()

    def _run(self, parser: Any) -> Any:
        get_event = parser.get_event
        stack = self.stack
        root: Any = None
        documents = 0
        while True:
            event = get_event()
            cls = type(event)
            if cls is ScalarEvent:
                start_mark = event.start_mark
                self._add(self._scalar(event), pack(start_mark.line + 1, start_mark.column + 1))
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                start_mark = event.start_mark
                start = pack(start_mark.line + 1, start_mark.column + 1)
                if len(stack) >= MAX_DEPTH:
                    self._abort(start, f"nesting is deeper than {MAX_DEPTH} levels")
                self._check_collection_tag(event, start)
                frame = _Frame({}, {}, _NO_KEY) if cls is MappingStartEvent else _Frame([], [])
                frame.bad_key = self._expecting_key()
                stack.append(frame)
                self.session.source.register(
                    frame.container, ContainerMarks(self.display, start, frame.marks)
                )
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                frame = stack.pop()
                if frame.bad_key:
                    # a mapping or list used as a key: report, then drop the entry
                    self._problem(
                        frame_start(self.session.source, frame.container),
                        "a key must be a plain string, not a mapping or list",
                    )
                    self._add(_BAD_KEY, frame_start(self.session.source, frame.container))
                elif stack:
                    self._add(frame.container, frame_start(self.session.source, frame.container))
                else:
                    root = frame.container
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

    # -- values ---------------------------------------------------------
    def _scalar(self, event: ScalarEvent) -> Any:
        tag = event.tag
        value = event.value
        if tag is None or tag == "!":
            if not event.implicit[0]:  # quoted: always a string
                return _text(value)
            tag = self.resolved.get(value)
            if tag is None:
                tag = self.resolved[value] = _RESOLVER.resolve(ScalarNode, value, (True, False))
        if tag == _STR:
            return _text(value)
        if tag == _NULL:
            self._raw = value if value.isalpha() else None  # `Null`: a name that wants quotes?
            return None
        if tag == _TIMESTAMP:
            return value  # dates are not site values; keep the text as written
        convert = _CONVERT.get(tag)
        where = pack(event.start_mark.line + 1, event.start_mark.column + 1)
        if convert is not None:
            try:
                result = convert(ScalarNode(tag, value))
            except (ConstructorError, ValueError):
                self._poison(where, f"`{value}` is not a valid {tag.removeprefix(_TAG)}")
                return _POISON
            misread = _yaml11_number(value, result)
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
        if tag is not None and tag not in ("!", _MAP, _SEQ):
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
            self._poison(where, f"!include {target}: {_not_a_file(real)}")
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
            and (self.stack[-1].key is _NO_KEY)
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
        if frame.key is _NO_KEY:
            frame.key, frame.key_mark = value, where
            if value is _POISON:
                frame.key = _BAD_KEY
            elif value is not _BAD_KEY and type(value) is not str:
                self._bad_key(value, where, raw)
            return
        key, frame.key = frame.key, _NO_KEY
        if key is _BAD_KEY:
            frame.bad_key_name = None
            return
        if key in container:
            first = line_col(frame.marks[key] >> 64)  # type: ignore[call-overload]
            self._problem(
                frame.key_mark,
                f"duplicate key `{key}` (first defined at line {first[0]})",
                (*self._path(), key),
            )
            return
        if raw is not None:
            self.session.source.raw_scalars[(id(container), key)] = raw
        container[key] = None if value is _POISON else value  # type: ignore[index]
        frame.marks[key] = pair(frame.key_mark, where)  # type: ignore[index]

    def _bad_key(self, value: Any, where: Mark, raw: str | None) -> None:
        frame = self.stack[-1]
        frame.key = _BAD_KEY
        if value is None:
            self._problem(where, "empty key")
        else:
            written = raw if raw is not None else str(value)
            self._problem(
                where,
                f"key `{written}` is read by YAML as {describe(value)}; keys must be "
                f'strings: write "{written}" in quotes',
            )
            frame.bad_key_name = written  # problems inside its value keep their path

    # -- problems -----------------------------------------------------------
    def _path(self) -> Path:
        path: list[str | int] = list(self.at)
        for frame in self.stack:
            if isinstance(frame.container, dict):
                if frame.key is not _NO_KEY and isinstance(frame.key, str):
                    path.append(frame.key)
                elif frame.key is _BAD_KEY and frame.bad_key_name is not None:
                    path.append(frame.bad_key_name)
            else:
                path.append(len(frame.container))
        return tuple(path)

    def _problem(self, where: Mark, message: str, path: Path | None = None) -> None:
        self.session.problems.add(
            Problem(
                Position(self.display, *line_col(where)),
                self._path() if path is None else path,
                message,
            )
        )

    def _poison(self, where: Mark, message: str) -> None:
        """Report a value the loader cannot accept; later checks skip its path."""
        path = self._path()
        self.session.poisoned.add(path)
        self._problem(where, message, path)

    def _abort(self, where: Mark, message: str) -> None:
        raise LoadAborted(Problem(Position(self.display, *line_col(where)), self._path(), message))


def _not_a_file(path: str) -> str:
    """Why `path` cannot be included, saying what it is: an admin who sees "no such
    file" for a directory or a FIFO looks for the wrong mistake."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    what = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"is {what}, not a file: an included file must be a regular file"


def _text(value: str) -> str:
    return value if value.isascii() else unicodedata.normalize("NFC", value)


_PLAIN_NUMBER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")


def _yaml11_number(value: str, result: Any) -> str | None:
    """Why a YAML 1.1 number is not what it looks like, or None for a plain one.

    A reader expects `010` to be ten and `1:30` to be a time; YAML 1.1 reads them
    as 8 and 90, silently. Site files hold such values only in plain decimal."""
    if type(result) is bool or _PLAIN_NUMBER.fullmatch(value):
        return None
    digits = value.lstrip("+-")
    if ":" in digits:
        kind = "a sexagesimal (base 60) number"
    elif digits[:2] in ("0x", "0X"):
        kind = "a hexadecimal number"
    elif digits[:2] in ("0b", "0B"):
        kind = "a binary number"
    elif "_" in digits:
        kind = "a number with digit separators"
    elif digits[:1] == "0" and digits[1:2].isdigit():
        kind = "an octal number"
    else:
        return None  # .inf, .nan and the like: the schema's range checks speak for them
    return (
        f"`{value}` is read by YAML 1.1 as {kind}, {result}: write {result} for that "
        f'number, or "{value}" in quotes for text'
    )


def frame_start(source: SourceMap, container: Any) -> Mark:
    return source.containers[id(container)].start


_POISON = object()
_BAD_KEY = object()
_RESOLVER = yaml.resolver.Resolver()
