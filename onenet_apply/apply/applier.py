"""The applier: carry a plan out against a backend, under the site's lock.

Apply takes the lock first, then reads the current state and plans (for a saved
plan: plans again from the plan's own site content and checks that its actions
come out the same), so an apply that waited for another never runs actions
planned against an old state. Ready actions run in plan order, each one atomic on
the backend, which refuses (and changes nothing) if its precondition no longer
holds. They go to the backend in batches that commit together (group commit): one
disk sync serves a hundred actions, and their credentials reach the CSV in one
synced write before that commit. A killed apply loses at most the batch in
flight, which the next run plans again.

On a refusal the applier stops, keeping the actions before it; on a transient
failure it re-reads the state and plans again, which also covers a change that
took effect but whose answer was lost, and a read that failed the same way. Deferred and blocked actions stay for a
later run; a gated action stops the whole apply before anything changes.

Every credential the backend issues is written to the credentials CSV by the
backend's recorder hook (the CredentialsSink), before the platform commits it;
if the platform rolls the batch back instead, it retracts them from the CSV, and
the applier re-plans as after any transient failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from onenet_apply.apply.ledger import NO_LEDGER, Ledger, batch_outcomes, ledger_run
from onenet_apply.apply.locking import site_locks
from onenet_apply.backends.base import (
    Backend,
    Recorder,
    SiteLocks,
    SiteSettings,
    TransientError,
)
from onenet_apply.model.plan import Action, Plan, Status
from onenet_apply.model.spec import Site, SiteSpec
from onenet_apply.model.state import SiteState
from onenet_apply.planning.planner import PlanOptions, plan

if TYPE_CHECKING:
    from onenet_apply.savedplan.plan_file import SavedPlan

POLL_SECONDS = 1.0
BATCH_SIZE = 100  # ready actions per execute_batch call, unless the backend says otherwise
MAX_TRANSIENT_RETRIES = 3


class GatedError(Exception):
    """The plan holds gated actions: nothing was applied."""

    outcome = "gated"  # the run's outcome in the history (apply/ledger.py)

    def __init__(self, gated: list[Action]) -> None:
        reasons = root_reasons(gated)
        super().__init__(
            f"{len(gated)} gated action{'s' if len(gated) != 1 else ''}; "
            f"nothing was applied: " + "; ".join(reasons)
        )
        self.gated = gated


def root_reasons(actions: list[Action]) -> list[str]:
    """The gates themselves, not every action that waits behind one."""
    return sorted({a.reason for a in actions if a.reason and not a.reason.startswith("waits for")})


@dataclass
class ApplyReport:
    """What an apply did and what is left: the actions carried out and refused, and the
    last plan."""

    applied: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    last_plan: Plan | None = None
    unreviewed: list[str] = field(default_factory=list)  # ready now, not in the saved plan
    declined: bool = False  # the plan was shown and not approved

    def remaining(self, status: Status) -> list[Action]:
        return self.last_plan.by_status(status) if self.last_plan else []

    def summary(self) -> dict[str, int]:
        counts = self.last_plan.counts() if self.last_plan else {}
        return {
            "applied": len(self.applied),
            "deferred": counts.get("deferred", 0),
            "blocked": counts.get("blocked", 0),
            "gated": counts.get("gated", 0),
            "failed": len(self.failed),
            "unreviewed": len(self.unreviewed),
        }

    def outcome(self) -> str:
        """The run in one word, for the history."""
        if self.failed:
            return "failed"
        if self.declined:
            return "declined"
        if self.remaining(Status.DEFERRED):
            return "pending"
        return "blocked" if self.remaining(Status.BLOCKED) else "ok"


@dataclass
class _Retries:
    """The transient failures one apply rides out, reads and writes alike; past
    MAX_TRANSIENT_RETRIES the last one is reported as the backend's failure."""

    left: int = MAX_TRANSIENT_RETRIES

    def exhausted(self, report: ApplyReport, error: TransientError) -> bool:
        if self.left == 0:
            report.failed.append(("(backend)", str(error)))
            return True
        self.left -= 1
        return False


Progress = Callable[[int, int, Action], None]
Waiting = Callable[[SiteState, Plan, float], None]  # what is waited for, seconds left
Approve = Callable[[Plan], bool]  # shows the plan; False: apply nothing


def apply_site(
    backend: Backend,
    spec: SiteSpec,
    options: PlanOptions,
    record: Recorder,
    *,
    lock_timeout: float = 30.0,
    wait_activation: float = 0.0,
    progress: Progress | None = None,
    approve: Approve | None = None,
    command: str = "onenet apply",
    locks: SiteLocks | None = None,
    ledger: Ledger = NO_LEDGER,
    waiting: Waiting | None = None,
) -> ApplyReport:
    """Plan and apply a site file under the site's lock, telling `ledger` each step.

    The plan made under the lock is the one shown and approved (`approve` may
    refuse it by returning False). Running ready actions never makes other actions
    ready, so the applier plans again only while waiting for activations
    (`wait_activation`, said on stderr unless `waiting` says it elsewhere) or after
    a transient failure."""
    report = ApplyReport()
    with (
        site_locks(backend, locks).lock(spec.site.id, lock_timeout, command),
        keeping_site(backend, spec.site),
        ledger_run(ledger) as ending,
    ):
        _converge(
            backend,
            spec,
            options,
            record,
            report,
            (wait_activation, waiting),
            progress,
            approve,
            ledger,
        )
        ending.settle(report.outcome(), report.summary(), _failures(report))
    return report


def _converge(
    backend: Backend,
    spec: SiteSpec,
    options: PlanOptions,
    record: Recorder,
    report: ApplyReport,
    wait: tuple[float, Waiting | None],
    progress: Progress | None,
    approve: Approve | None,
    ledger: Ledger,
) -> None:
    """Plan and run until nothing ready is left, activations included while waiting
    (`wait`: for how long, and who says so)."""
    wait_activation, waiting = wait
    deadline = time.monotonic() + wait_activation
    retries = _Retries()
    first = True
    while True:
        try:  # a read can fail as a write can (a lost reply, a Warning): read again
            state = backend.read_state(spec.site.id)
            current = plan(spec, state, options, catalogue=backend.catalogue())
        except TransientError as e:
            if retries.exhausted(report, e):
                return
            continue
        report.last_plan = current
        if first:
            first = False
            ledger.planned(current)
            if approve is not None and not approve(current):
                report.declined = bool(current.ready)  # else there was nothing to approve
                return
        if current.gated:
            raise GatedError(current.gated)
        try:
            _run(backend, current, record, report, progress, ledger)
        except TransientError as e:
            if retries.exhausted(report, e):
                return
            continue  # re-read and re-plan: the change may or may not have happened
        if report.failed or not current.by_status(Status.DEFERRED):
            return
        if time.monotonic() >= deadline:
            return
        if waiting is None:
            from onenet_apply.apply.waiting import WaitNotice

            waiting = WaitNotice.on_stderr()
        waiting(state, current, deadline - time.monotonic())
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _failures(report: ApplyReport) -> str:
    return "; ".join(f"{action_id}: {why}" for action_id, why in report.failed)


def apply_saved(
    backend: Backend,
    saved: SavedPlan,
    record: Recorder,
    *,
    lock_timeout: float = 30.0,
    progress: Progress | None = None,
    approve: Approve | None = None,
    command: str = "onenet apply",
    locks: SiteLocks | None = None,
    ledger: Ledger = NO_LEDGER,
) -> ApplyReport:
    """Apply exactly a reviewed plan: under the lock, plan again from its own site
    content, the current state and its options, and run its ready actions only if
    each comes out the same (`saved_check`); otherwise refuse it as stale or tampered.

    Ready actions the site now needs beyond the saved plan are not run (nobody
    reviewed them): they are left in `report.unreviewed`."""
    from onenet_apply.savedplan.saved_check import runnable  # a site file's apply needs none

    report = ApplyReport(last_plan=saved.plan)
    with (
        site_locks(backend, locks).lock(saved.plan.site, lock_timeout, command),
        keeping_site(backend, saved.spec.site),
        ledger_run(ledger) as ending,
    ):
        state = backend.read_state(saved.plan.site)
        current = plan(saved.spec, state, saved.options, catalogue=backend.catalogue())
        ledger.planned(current, saved.digest)
        run = runnable(saved.plan, current, state)
        report.last_plan = current
        running = {a.id for a in run}
        report.unreviewed = [a.id for a in current.ready if a.id not in running]
        if approve is not None and not approve(saved.plan):
            report.declined = bool(run)
        else:
            if current.gated:
                raise GatedError(current.gated)
            try:
                the_run = replace(current, actions=tuple(run))
                _run(backend, the_run, record, report, progress, ledger)
            except TransientError as e:
                report.failed.append(("(backend)", f"{e}; run onenet plan again"))
        ending.settle(report.outcome(), report.summary(), _failures(report))
    return report


@contextmanager
def keeping_site(backend: Backend, site: Site) -> Iterator[None]:
    """When the apply inside ends without an error, hand its site settings to a backend
    that keeps them (`SiteSettings`), still under the lock, so `onenet import` gives
    them back. An apply that was declined, gated or interrupted keeps nothing; one that
    changed nothing still keeps them (a new pool or policy alone)."""
    yield
    if isinstance(backend, SiteSettings):
        backend.keep_site(site)


def batch_size(backend: Backend) -> int:
    """Ready actions per `execute_batch` call: the backend's `batch_size` where it
    has one, else BATCH_SIZE. A backend that commits each batch with a disk sync does
    well with large batches; for one that carries out each action alone, larger ones
    gain nothing, and the applier checks the lock (and writes the history) before each."""
    size: int = getattr(backend, "batch_size", BATCH_SIZE)
    return size


def _run(
    backend: Backend,
    current: Plan,
    record: Recorder,
    report: ApplyReport,
    progress: Progress | None,
    ledger: Ledger,
) -> None:
    ready, size = current.ready, batch_size(backend)
    for start in range(0, len(ready), size):
        batch = ready[start : start + size]
        ledger.before_batch()  # e.g. the shared store's lock must still be held
        outcome = backend.execute_batch(current.site, batch, record)
        if ledger is not NO_LEDGER:  # the outcomes' words cost as much as a journal's
            ledger.record(batch_outcomes(batch, outcome))
        for offset, result in enumerate(outcome.results):
            report.applied.append(result.action_id)
            if progress is not None:
                progress(start + offset + 1, len(ready), batch[offset])
        error = outcome.error
        if isinstance(error, TransientError):
            raise error
        if error is not None:  # refused, conflict, not found: stop; the next run re-plans
            report.failed.append((batch[len(outcome.results)].id, str(error)))
            return
