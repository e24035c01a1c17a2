"""What `apply --wait-activation` says while it waits: which users and groups it waits
for the carrier to activate, how much deferred work waits on them and how long is
left, on stderr; a line every few seconds on a terminal, rarely in a log (CI)."""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from onenet_apply.model.plan import Action, Kind, Plan, Status
from onenet_apply.model.state import Lifecycle, SiteState
from onenet_apply.model.vocabulary import GROUPS, LABEL_OF, SECTION_OF

TERMINAL_EVERY = 5.0  # seconds between lines on a terminal
LOG_EVERY = 30.0  # in a log: a line per half minute shows the apply is alive


@dataclass
class WaitNotice:
    """Says what an apply waits for, at most once every `every` seconds (the first
    time at once)."""

    stream: TextIO
    every: float
    clock: Callable[[], float] = time.monotonic
    last: float | None = field(default=None, init=False)

    @classmethod
    def on_stderr(cls) -> WaitNotice:
        stream = sys.stderr
        return cls(stream, TERMINAL_EVERY if stream.isatty() else LOG_EVERY)

    def __call__(self, state: SiteState, current: Plan, left: float) -> None:
        """`state` as read before `current` ran its ready actions; `left` seconds."""
        now = self.clock()
        if self.last is not None and now - self.last < self.every:
            return
        self.last = now
        self.stream.write(waiting_line(state, current, left) + "\n")
        self.stream.flush()


def waiting_line(state: SiteState, current: Plan, left: float) -> str:
    """`Waiting for 3 users and 1 hunt group to be activated (4 deferred actions; up
    to 28 s left)...`"""
    deferred = len(current.by_status(Status.DEFERRED))
    pending = pending_counts(state, current.ready)
    actions = f"{deferred} deferred action{'s' if deferred != 1 else ''}"
    until = f"up to {math.ceil(left)} s left"
    if not pending:
        return f"Waiting for {actions} ({until})..."
    return f"Waiting for {_listed(pending)} to be activated ({actions}; {until})..."


def pending_counts(state: SiteState, ran: Iterable[Action]) -> Counter[str]:
    """Pending users and groups by type: those pending in `state`, and those just
    created that start pending (users, hunt groups, call centres)."""
    counts: Counter[str] = Counter()
    for target_type in SECTION_OF:
        counts[target_type] = sum(
            1 for c in state.section(target_type).values() if c.lifecycle is Lifecycle.PENDING
        )
    for action in ran:
        kind, target_type = action.kind, action.target.type
        if kind is Kind.CREATE and (target_type == "user" or GROUPS[target_type].numbered):
            counts[target_type] += 1  # created pending; pickup and park groups are not
    return +counts


def _listed(counts: Counter[str]) -> str:
    parts = [f"{n} {LABEL_OF[t]}{'s' if n != 1 else ''}" for t in SECTION_OF if (n := counts[t])]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
