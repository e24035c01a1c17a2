"""Writing the files a command was asked for: whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import TextIO

import click


def write_file_atomically(path: str, text: str) -> None:
    """Write a plan or site file whole: a reader never sees half of one."""
    with writing_atomically(path) as f:
        f.write(text)


@contextlib.contextmanager
def writing_atomically(path: str) -> Iterator[TextIO]:
    """A file to write `path` through, renamed into place (synced) when the block
    ends without an error, and removed when it fails: whole or not at all."""
    target = os.path.abspath(path)
    try:
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".onenet-")
    except OSError as e:
        raise click.ClickException(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(e, OSError):
            raise click.ClickException(f"cannot write {path}: {e.strerror}") from None
        raise
