"""The credentials CSV: the one place a desk phone password is ever written.

Columns: site, user_id, username, number, extension, device_type, login_username,
password, issued_at, event. A file is created with mode 0600 and never
overwritten: a named file must not exist yet, and the default name is new for
every run. Nor is one written where git would pick it up (in a work tree and not
ignored, see gitguard.py): that is refused before anything is applied.

Rows are flushed and fsynced before `record` returns, so the backend can record a
credential on disk before the platform commits it. If the platform then rolls
the batch back, it calls `retract`, which truncates the file back to its size
before that batch (and syncs): every row in the file is a password that took
effect. Only a kill between the write and the commit can leave the last batch's
rows for passwords that never took effect (rerun, and the newer rows hold), and,
over OCI-P, a request whose reply was lost, which may have taken effect. A
write that fails (disk full, I/O error) or is interrupted (Ctrl-C) is undone the
same way; a file left with no credential in it is removed, so a rerun can use the
same name.

Spreadsheets: every cell is exact (no guard character) and quoted, and no cell
can start a formula, in `,` and `;` (e.g. German) locales alike. Generated
passwords hold no = + - @ , ; " ' or white space (passwords.py); a chosen
password that starts with = + - @, tab or carriage return, or holds , ; or ",
is refused (`password_cell_problems`). Every other cell is checked as it is
written: none starts with = + - @, tab or carriage return or holds , ; " or a
line break, except the number, which is E.164: + and digits only, which a
spreadsheet reads as a plain number, never a formula.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from operator import attrgetter
from pathlib import Path
from typing import TypeVar

from onenet_apply.apply.gitguard import git_exposure
from onenet_apply.backends.base import Credential

T = TypeVar("T")

COLUMNS = (
    "site",
    "user_id",
    "username",
    "number",
    "extension",
    "device_type",
    "login_username",
    "password",
    "issued_at",
    "event",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SPLITTERS = frozenset(',;"')  # a delimiter in `,` or `;` locales, and the quote
_E164 = re.compile(r"\+[0-9]{1,15}")
DEFAULT_PATTERN = "onenet-credentials-*.csv"
_CELLS = attrgetter(*COLUMNS)
_NUMBER, _PASSWORD = COLUMNS.index("number"), COLUMNS.index("password")
# a cell that starts a formula or holds a splitter or line break, in cells joined by NUL
_UNPLAIN = re.compile(r'(?:\A|\x00)[=+\-@\t\r]|[,;"\n\r]')
_FORMULA = "starts with = + - @, tab or carriage return, which a spreadsheet runs as a formula"


class CredentialsFileError(Exception):
    """The CSV cannot be created or written as asked; the message says what it holds."""


def password_cell_problems(password: str) -> list[str]:
    """Why a spreadsheet would not show `password` as exactly this text (empty: fine)."""
    problems = []
    if password.startswith(FORMULA_STARTS):
        problems.append(f"it {_FORMULA}")
    elif not password[:1].isascii() or not password[:1].isalpha():
        problems.append(
            "it must start with a letter, or a spreadsheet may read it as a number, date or time"
        )
    if not _SPLITTERS.isdisjoint(password):
        problems.append('it contains , ; or ", at which a spreadsheet may split the cell')
    if not password.isascii():
        problems.append(
            "it holds characters beyond ASCII, which a spreadsheet may misread from "
            "the CSV (and a desk phone keypad may not type)"
        )
    return problems


def _cell_problem(column: str, cell: str) -> str | None:
    """Why `cell` cannot be written as it is (None: it can)."""
    if column == "number" and _E164.fullmatch(cell):
        return None  # + and digits: a number to a spreadsheet, never a formula
    if column == "password":
        problems = password_cell_problems(cell)
        return problems[0].removeprefix("it ") if problems else None
    if cell.startswith(FORMULA_STARTS):
        return _FORMULA
    if not _SPLITTERS.isdisjoint(cell) or "\n" in cell or "\r" in cell:
        return 'contains , ; " or a line break, at which a spreadsheet may split the row'
    return None


def _plain_row(row: tuple[str, ...]) -> bool:
    """Whether every cell of `row` passes `_cell_problem`, checked in one pass over
    the row (thousands per apply); False when in doubt, to check cell by cell."""
    e164 = _E164.fullmatch(row[_NUMBER]) is not None
    cells = [c for i, c in enumerate(row) if i != _PASSWORD and not (e164 and i == _NUMBER)]
    return not _UNPLAIN.search("\x00".join(cells)) and not password_cell_problems(row[_PASSWORD])


def default_name(site: str | None, now: float | None = None, suffix: str = ".csv") -> str:
    """`onenet-credentials-SITE-TIME.csv`; of a run over several sites (`site` None),
    `onenet-credentials-TIME.csv`, its rows naming their sites."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return f"onenet-credentials-{site + '-' if site else ''}{stamp}{suffix}"


class CredentialsSink:
    """Appends credentials to one CSV, created on the first credential.

    Pass the sink itself as the backends' `Recorder`: it is called with each
    batch's credentials before the platform commits them, and `retract`ed if the
    platform rolls that batch back."""

    SUFFIX = ".csv"  # of the default name
    PATTERN = DEFAULT_PATTERN  # the default names, for a .gitignore

    def __init__(
        self,
        site: str | None,
        path: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] = ".",
    ) -> None:
        self.site = site
        self.explicit = path is not None
        default = Path(directory) / default_name(site, suffix=self.SUFFIX)
        self.path = Path(path) if path is not None else default
        self.written = 0  # rows in the file, each a credential the platform holds
        self._fd: int | None = None
        self._last: tuple[int, tuple[Credential, ...]] | None = None  # offset, last batch
        self._broken: str | None = None  # why nothing more may be appended
        if self.explicit and os.path.lexists(self.path):  # a dangling symlink too
            raise CredentialsFileError(
                f"{self.path} exists; credentials files are never overwritten: name a new one"
            )
        if not self.path.parent.is_dir():  # found now, before the platform issues anything
            raise CredentialsFileError(
                f"cannot create {self.path}: {self.path.parent} is not a directory"
            )
        _probe(self.path)
        self._place_checked = False

    def check_place(self) -> None:
        """Refuse a file git would pick up. Callers run it before anything is applied
        when they know login details will be issued; the first record runs it anyway,
        before the platform commits anything (a run that issues none writes no file,
        so needs no safe place)."""
        if self._place_checked:
            return
        exposure = git_exposure(self.path)
        if exposure is not None:
            raise CredentialsFileError(
                f"refusing to write login details to {self.path}: it is inside the git "
                f"work tree {exposure.work_tree} and {exposure.reason}; {exposure.fix(self._pattern)}"
            )
        self._place_checked = True

    @property
    def _pattern(self) -> str:
        return self.path.name if self.explicit else self.PATTERN

    def __call__(self, credentials: Sequence[Credential]) -> None:
        self.record(credentials)

    def record(self, credentials: Sequence[Credential]) -> None:
        """Append a row for each credential; they are on disk when this returns.

        One sync for a whole batch of rows. On failure the file is as it was
        before the call (or removed, when it held no credential), and the error
        says how many credentials the file holds."""
        if not credentials:
            return
        if self._broken is not None:
            raise CredentialsFileError(f"{self._broken}; stopping")
        rows = [self._row(c) for c in credentials]  # a refused cell writes nothing
        self.check_place()
        if self._fd is None:
            self._fd = self._create()
        offset = os.lseek(self._fd, 0, os.SEEK_CUR)
        previous = self._claim(offset, credentials)
        try:
            self._append(rows if offset else [COLUMNS, *rows])
            _sync(self._fd)
        except OSError as e:  # disk full, I/O error: the rows may be partly written
            self._unclaim(previous, credentials)
            raise CredentialsFileError(
                f"cannot write {self.path}: {e.strerror}; {self._undo(offset)}"
            ) from None
        except BaseException:  # Ctrl-C: this record never returns, so nothing commits
            self._unclaim(previous, credentials)
            self._take_out(offset)
            raise

    def _claim(
        self, offset: int, credentials: Sequence[Credential]
    ) -> tuple[int, tuple[Credential, ...]] | None:
        """Count the batch in, and make it the one a `retract` takes out, before its
        rows are written: an interrupt after the write, before `record` returns,
        leaves no row a rollback's retract would not find. The batch before it."""
        previous = self._last
        self._last = (offset, tuple(credentials))
        self.written += len(credentials)
        return previous

    def _unclaim(
        self, previous: tuple[int, tuple[Credential, ...]] | None, credentials: Sequence[Credential]
    ) -> None:
        """The batch's write failed: the one before is the last again."""
        self._last = previous
        self.written -= len(credentials)

    def _take_out(self, offset: int) -> None:
        """The rows of a record interrupted before it returned, taken out again: the
        platform commits nothing whose recording raised, and a backend without
        transactions retracts nothing then."""
        try:
            self._cut(offset)
        except OSError as e:
            self._broken = (
                f"{self.path} holds {_count(self.written)} the platform committed, "
                f"then the rows of an interrupted batch that could not be taken out ({e.strerror})"
            )

    def retract(self, credentials: Sequence[Credential]) -> None:
        """The platform rolled back the batch just recorded: take its rows out.

        Never raises (the platform's own error is the one to report); if the
        rows cannot be taken out, the sink appends nothing more and says why."""
        if not self._writing() or self._last is None or self._last[1] != tuple(credentials):
            return  # not the last batch recorded (or it failed and was undone)
        offset, batch = self._last
        self._last = None
        self.written -= len(batch)
        try:
            self._cut(offset)
        except OSError as e:
            self._broken = (
                f"{self.path} holds {_count(self.written)} the platform committed, "
                f"then {len(batch)} rows it rolled back that could not be taken out "
                f"({e.strerror})"
            )

    def _writing(self) -> bool:
        """Whether the sink has a file open to take rows out of."""
        return self._fd is not None

    def _cut(self, offset: int) -> None:
        """Take out every row from `offset` on (raises OSError when it cannot)."""
        self._truncate(offset)

    def close(self) -> None:
        """Close the file; one that holds no credential is removed (a rerun can reuse it)."""
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        if self.written == 0 and self._broken is None:
            self._remove()

    def __enter__(self) -> CredentialsSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _row(self, credential: Credential) -> tuple[str, ...]:
        row = tuple(map(str, _CELLS(credential)))
        if _plain_row(row):
            return row
        for column, cell in zip(COLUMNS, row, strict=True):
            problem = _cell_problem(column, cell)
            if problem is not None:
                raise CredentialsFileError(
                    f"cannot write the login details of user {credential.user_id} to "
                    f"{self.path}: its {column} {problem}"
                )
        return row

    def _undo(self, offset: int) -> str:
        """Take a failed write out again; what the file holds now, in words."""
        try:
            self._truncate(offset)
        except OSError:
            self._broken = (
                f"{self.path} holds {_count(self.written)} committed before, "
                "and may end in a partial row"
            )
            return self._broken
        self._broken = f"{self.path} could not be written"
        if self.written:
            return f"it holds {_count(self.written)} committed before, no more"
        os.close(self._fd)  # type: ignore[arg-type]
        self._fd = None
        self._remove()
        return "no credential was committed, and the file was removed"

    def _truncate(self, offset: int) -> None:
        os.ftruncate(self._fd, offset)  # type: ignore[arg-type]
        os.lseek(self._fd, offset, os.SEEK_SET)  # type: ignore[arg-type]
        _sync(self._fd)  # type: ignore[arg-type]

    def _remove(self) -> None:
        try:
            self.path.unlink()
            _fsync_directory(self.path.parent)
        except OSError:
            pass  # an empty file left behind is harmless; the name stays taken

    def _create(self) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        tried = [self.path]

        def create(candidate: Path) -> int:
            tried.append(candidate)
            return os.open(candidate, flags, 0o600)

        try:
            fd = self._take_new_name(create)
        except OSError as e:
            raise CredentialsFileError(f"cannot create {tried[-1]}: {e.strerror}") from None
        candidate = self.path
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            _fsync_directory(candidate.parent)  # the new name itself survives a crash
        except OSError as e:
            os.close(fd)
            self._remove()
            raise CredentialsFileError(f"cannot create {candidate}: {e.strerror}") from None
        return fd

    def _take_new_name(self, create: Callable[[Path], T]) -> T:
        """`create(path)` on the first free name, never one that exists: a name the
        user gave must be free; a default one taken (by another run this second) is
        numbered instead. `self.path` becomes the name taken."""
        candidate, n = self.path, 1
        while True:
            try:
                made = create(candidate)
                break
            except FileExistsError:
                if self.explicit:
                    raise CredentialsFileError(
                        f"{candidate} exists; credentials files are never overwritten"
                    ) from None
                n += 1
                candidate = self.numbered(n)
        self.path = candidate
        return made

    def numbered(self, n: int) -> Path:
        """The default name taken (by another run this second): the `n`th instead."""
        stem = self.path.name.removesuffix(self.SUFFIX)
        return self.path.with_name(f"{stem}-{n}{self.SUFFIX}")

    def _append(self, rows: Sequence[tuple[str, ...]]) -> None:
        data = csv_bytes(rows)
        while data:
            written = os.write(self._fd, data)  # type: ignore[arg-type]
            data = data[written:]


def csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    """Rows as the file holds them: UTF-8, every cell quoted, `\\n` line ends."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _probe(path: Path) -> None:
    """Create and remove a file beside `path`: a place that is not writable (even
    for root, e.g. a read-only mount) is found before the platform issues anything."""
    try:
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=".onenet-probe-")
    except OSError as e:
        raise CredentialsFileError(
            f"cannot create {path}: {path.parent} is not writable ({e.strerror})"
        ) from None
    os.close(fd)
    os.unlink(probe)


def _count(n: int) -> str:
    return f"{n} credential{'s' if n != 1 else ''}"


def _sync(fd: int) -> None:
    """Data (and the size needed to read it back) on disk; fdatasync where there is one."""
    getattr(os, "fdatasync", os.fsync)(fd)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
