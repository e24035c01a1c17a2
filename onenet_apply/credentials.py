"""The credentials CSV: the one place a desk phone password is ever written.

Columns: site, user_id, username, number, extension, device_type, login_username,
password, issued_at, event. A file is created with mode 0600 and never
overwritten: a named file must not exist yet, and the default name is new for
every run. Rows are flushed and fsynced before `record` returns, so the applier
can record a credential on disk before the platform commits it (a killed run then
leaves at worst a row for a password that never took effect, never a password
that took effect without a row). A cell starting with = + - @, tab or carriage
return gets a leading ' so spreadsheets do not run it as a formula.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Sequence
from pathlib import Path

from onenet_apply.backends.base import Credential

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
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CredentialsFileError(Exception):
    """The CSV cannot be created as asked (it exists, or the place is not writable)."""


def guard(cell: str) -> str:
    """Neutralise spreadsheet formulas: '=cmd' becomes "'=cmd"."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def default_name(site: str, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return f"onenet-credentials-{site}-{stamp}.csv"


class CredentialsSink:
    """Appends credentials to one CSV, created on the first credential."""

    def __init__(
        self,
        site: str,
        path: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] = ".",
    ) -> None:
        self.site = site
        self.explicit = path is not None
        self.path = Path(path) if path is not None else Path(directory) / default_name(site)
        self.written = 0
        self._fd: int | None = None
        self._broken = False  # a failed write may leave half a row: append nothing after it
        if self.explicit and self.path.exists():
            raise CredentialsFileError(
                f"{self.path} exists; credentials files are never overwritten: name a new one"
            )
        if not self.path.parent.is_dir():  # found now, before the platform issues anything
            raise CredentialsFileError(
                f"cannot create {self.path}: {self.path.parent} is not a directory"
            )

    def record(self, credentials: Sequence[Credential]) -> None:
        """Append a row for each credential; they are on disk when this returns.

        This is the backends' `Recorder`: one sync for a whole batch of rows."""
        if not credentials:
            return
        if self._broken:
            raise CredentialsFileError(f"{self.path} could not be written before; stopping")
        if self._fd is None:
            self._fd = self._create()
            self._append([COLUMNS])
        rows = [tuple(guard(str(getattr(c, name))) for name in COLUMNS) for c in credentials]
        try:
            self._append(rows)
            _sync(self._fd)
        except OSError as e:  # disk full, I/O error: the rows may be partly written
            self._broken = True
            raise CredentialsFileError(f"cannot write {self.path}: {e.strerror}") from None
        self.written += len(credentials)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CredentialsSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _create(self) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        candidate, n = self.path, 1
        while True:
            try:
                fd = os.open(candidate, flags, 0o600)
                break
            except FileExistsError:
                if self.explicit:
                    raise CredentialsFileError(
                        f"{candidate} exists; credentials files are never overwritten"
                    ) from None
                n += 1
                candidate = self.path.with_name(f"{self.path.stem}-{n}{self.path.suffix}")
            except OSError as e:
                raise CredentialsFileError(f"cannot create {candidate}: {e.strerror}") from None
        os.fchmod(fd, 0o600)  # whatever the umask
        self.path = candidate
        _fsync_directory(candidate.parent)  # the new name itself survives a crash
        return fd

    def _append(self, rows: Sequence[tuple[str, ...]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        data = buffer.getvalue().encode("utf-8")
        while data:
            written = os.write(self._fd, data)  # type: ignore[arg-type]
            data = data[written:]


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
