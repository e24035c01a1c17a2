"""Is a file a saved plan? Recognised by its first bytes, never by its name.

Every `onenet apply` asks this of its argument before anything else, so this
module is apart from plan_file.py: applying a site file loads nothing of the
saved plan's reading and writing.
"""

from __future__ import annotations

import os
import re
import stat

MARKER = "onenet-plan"
SNIFF_BYTES = 4096
# a saved plan starts with its marker; plans of format 1 started with their format_version
_PLAN_START = re.compile(
    rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"(?:kind"\s*:\s*"' + MARKER.encode() + rb'"|format_version")'
)


def is_saved_plan(path: str) -> bool:
    """Does this regular file start like a saved plan? Cheap: reads a few bytes only,
    and never opens a FIFO or device (a site file's reader deals with those)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as f:
            return _PLAN_START.match(f.read(SNIFF_BYTES)) is not None
    except OSError:
        return False
