"""The console entry point, with nothing imported before its guard.

Ctrl-C while the interpreter is still importing the command line, or a reader
that closes stdout early (`onenet plan ... | head -1`), must end the process
quietly, never with a traceback: this module imports only the standard library's
smallest pieces, so its guard is in place before the heavy imports start. Until then, the package's
own first lines (onenet_apply/__init__.py) answer Ctrl-C with the same line and
exit code.
"""

from __future__ import annotations

import signal

from onenet_apply import _interrupted_early, gcpause
from onenet_apply.endings import interrupted


def main() -> None:
    try:
        with gcpause.gc_paused():  # imports make objects, never garbage cycles
            from onenet_apply.cli import main as cli_main
    except KeyboardInterrupt:
        interrupted()
    # From here Ctrl-C is a KeyboardInterrupt again, which the command handles: an
    # interrupted apply first says where the login details it committed went.
    if signal.getsignal(signal.SIGINT) is _interrupted_early:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    gcpause.freeze_after_pause = True  # one command, then the process ends
    try:
        cli_main()
    finally:
        gcpause.freeze_after_pause = False  # callers in this process (tests) as before
        # the entry point's command is done and has said so: a Ctrl-C now would only
        # interrupt the interpreter's exit (joining threads, exit handlers) with a
        # traceback, or end it by the signal with another exit code
        signal.signal(signal.SIGINT, signal.SIG_IGN)
