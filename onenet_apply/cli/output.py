"""Writing the files a command was asked for: whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile

import click


def write_file_atomically(path: str, text: str) -> None:
    """Write a plan or site file whole: a reader never sees half of one."""
    target = os.path.abspath(path)
    try:
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".onenet-")
    except OSError as e:
        raise click.ClickException(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(e, OSError):
            raise click.ClickException(f"cannot write {path}: {e.strerror}") from None
        raise
