"""How the command ends when the user or the reader stops it: one line or none,
never a traceback. Standard library only: the console imports this before the
command line, so it must cost nothing to load."""

from __future__ import annotations

import contextlib
import os
import sys

EXIT_ERROR, EXIT_INTERRUPTED = 1, 130


def interrupted() -> None:
    """Ctrl-C: one line, exit 130 (128 + SIGINT), as shells report it."""
    with contextlib.suppress(OSError):
        print("Interrupted.", file=sys.stderr, flush=True)
    sys.exit(EXIT_INTERRUPTED)


def stdout_closed() -> None:
    """The reader of stdout went away: exit without a word.

    stdout now points at /dev/null, so the interpreter's final flush of what is
    still buffered cannot fail a second time and print "Exception ignored"."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(EXIT_ERROR)
