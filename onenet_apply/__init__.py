"""onenet-apply: keep One Net Business sites in YAML, validate, plan and apply them.

Run as the `onenet` command, the package's first lines make Ctrl-C end the process
with one line and exit 130: this is the earliest moment our code runs, before the
console module and its guard are even found (see console.py, which hands Ctrl-C
back to Python once its guard is in place). Imported as a library, it changes nothing.
"""

import _signal
import os as _os
import sys as _sys

__version__ = "0.1.0"


def _interrupted_early(signum: int, frame: object) -> None:
    """Ctrl-C while the command is still starting: one line, exit 130, nothing else."""
    try:
        _os.write(2, b"Interrupted.\n")
    finally:
        _os._exit(130)


def _is_the_command() -> bool:
    """`onenet ...` (the console script) or `python -m onenet_apply ...` (while -m
    loads the package, argv[0] is "-m")."""
    first = _sys.argv[0] if _sys.argv else ""
    return first == "-m" or _os.path.basename(first) == "onenet"


# `_signal` is the interpreter's built-in module: no file to look for, so no
# window in which Ctrl-C lands in an import of our own. An ignored SIGINT (a
# background job) stays ignored.
if _is_the_command() and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    try:  # noqa: SIM105 (contextlib would be one more import to wait for)
        _signal.signal(_signal.SIGINT, _interrupted_early)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        pass
