"""Pause the cyclic garbage collector around bulk, acyclic work.

Loading and validating a large site makes hundreds of thousands of objects
(dicts, lists, strings, frozen dataclasses) that form no reference cycles. The
collector would scan them again and again for nothing; on a 10,000-user site
that costs more than the YAML parse itself. Pausing it is safe because nothing
here creates cycles that need collecting before the pause ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Set by the command line, whose process ends after one command: the objects that
# bulk work made are then frozen (`gc.freeze`) when the collector resumes, so its
# later passes skip them. Left unfrozen they all sit in the youngest generation, and
# the first passes after the pause scan every one of them (on a 10,000-user plan,
# a third of a second). Frozen objects are still freed when nothing refers to them;
# only a cycle among them would outlive the process's work, and bulk work makes none.
freeze_after_pause = False


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if freeze_after_pause:
                gc.freeze()
            gc.enable()
