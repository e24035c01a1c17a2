"""Reading a site file's bytes safely: bounded in size, patient with pipes, and
clear about what a path is when it is not a file.

A site file may be a FIFO or a pipe (`onenet validate /dev/stdin < site.yaml`): it
is read until its writer closes it, and given up with a clear error when nothing
arrives for `STREAM_IDLE_SECONDS` (a FIFO with no writer never hangs a run).
"""

from __future__ import annotations

import os
import select
import stat
import time

from onenet_apply.sitefile.problems import Position, Problem

MAX_FILE_BYTES = 50 * 1024 * 1024  # a site and everything it includes
STREAM_IDLE_SECONDS = 10.0


class LoadAborted(Exception):
    """A problem after which the rest of the file cannot be read."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def top_paths(path: str) -> tuple[str, str]:
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


def read_bytes(display: str, real: str, used: int = 0) -> bytes:
    """The bytes of a site file or stream; `used` bytes of the budget are spent already."""
    start = Position(display, 1, 1)
    try:
        info = os.stat(real)
        if stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
            return read_stream(real, display, MAX_FILE_BYTES - used)
        size = info.st_size
        if size > MAX_FILE_BYTES or used + size > MAX_FILE_BYTES:
            raise LoadAborted(
                Problem(
                    start,
                    (),
                    f"the site is too large ({size:,} bytes); the limit is "
                    f"{MAX_FILE_BYTES // (1024 * 1024)} MB in all",
                )
            )
        with open(real, "rb") as f:
            return f.read(MAX_FILE_BYTES + 1)
    except LoadAborted:
        raise
    except IsADirectoryError:
        raise LoadAborted(Problem(start, (), "is a directory, not a site file")) from None
    except OSError as e:
        raise LoadAborted(Problem(start, (), f"cannot read the file: {e.strerror}")) from None
    except ValueError:  # a NUL in the path
        raise LoadAborted(Problem(start, (), "the file name holds a NUL character")) from None


def read_stream(path: str, display: str, limit: int) -> bytes:
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


def decode(display: str, raw: bytes) -> str:
    """UTF-8 text (a BOM dropped); a binary or mis-encoded file is one clear problem."""
    if b"\0" in raw:
        line, col = byte_line_col(raw, raw.index(b"\0"))
        raise LoadAborted(
            Problem(Position(display, line, col), (), "this is a binary file, not YAML text")
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line, col = byte_line_col(raw, e.start)
        raise LoadAborted(
            Problem(
                Position(display, line, col),
                (),
                f"the file is not valid UTF-8 (byte 0x{raw[e.start]:02x}); save it as UTF-8",
            )
        ) from None


def byte_line_col(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", "replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def not_a_file(path: str) -> str:
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
