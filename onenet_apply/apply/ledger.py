"""What an apply or a credentials reset tells a record keeper as it goes.

A shared store (onenet_apply/store/) keeps a history of every run: who, when,
which plan, each action's outcome. The applier does not know where that goes: it
tells a `Ledger` at each step, and the store's ledger also checks, before each
batch, that the site's lock is still held. Without a store the ledger is `NO_LEDGER`
and the backend's own journal is the only record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from onenet_apply.backends.base import BatchResult
    from onenet_apply.model.plan import Action, Plan


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """How one action of a run ended, for the history."""

    action_id: str
    outcome: str  # ok | refused | failed | skipped
    message: str = ""  # what was done, or the backend's reason; never a secret


class Ledger(Protocol):
    def begin(self) -> None:
        """The run starts (its lock is held)."""
        ...

    def planned(self, plan: Plan, plan_digest: str = "") -> None:
        """The plan the run carries out (`plan_digest`: a saved plan's own)."""
        ...

    def before_batch(self) -> None:
        """About to change the platform: raise if that must not happen now (the lock
        is gone)."""
        ...

    def record(self, outcomes: Sequence[ActionOutcome]) -> None:
        """What the last batch did, action by action."""
        ...

    def end(self, outcome: str, summary: Mapping[str, int], message: str = "") -> None:
        """The run ended: ok, pending, blocked, failed, declined, gated, interrupted."""
        ...


class _NoLedger:
    def begin(self) -> None:
        pass

    def planned(self, plan: Plan, plan_digest: str = "") -> None:
        pass

    def before_batch(self) -> None:
        pass

    def record(self, outcomes: Sequence[ActionOutcome]) -> None:
        pass

    def end(self, outcome: str, summary: Mapping[str, int], message: str = "") -> None:
        pass


NO_LEDGER: Ledger = _NoLedger()


def batch_outcomes(batch: Sequence[Action], outcome: BatchResult) -> list[ActionOutcome]:
    """A batch's results as outcomes: those carried out, then the one that stopped it."""
    from onenet_apply.model.plan import describe

    done = [ActionOutcome(a.id, "ok", describe(a)) for a in batch[: len(outcome.results)]]
    error = outcome.error
    if error is not None and len(done) < len(batch):
        from onenet_apply.backends.errors import TransientError

        failed = "failed" if isinstance(error, TransientError) else "refused"
        done.append(ActionOutcome(batch[len(done)].id, failed, str(error)))
    return done


@dataclass(slots=True)
class Ending:
    """How a run ended, set by its body; an exception out of it overrides."""

    outcome: str = "ok"
    summary: Mapping[str, int] | None = None
    message: str = ""

    def settle(self, outcome: str, summary: Mapping[str, int], message: str = "") -> None:
        self.outcome, self.summary, self.message = outcome, summary, message


@contextmanager
def ledger_run(ledger: Ledger) -> Iterator[Ending]:
    """Begin a run, and end it however its body ends: with the `Ending` the body set,
    or as interrupted, gated or failed when an exception leaves it. A ledger that
    cannot record the end of a failed run (its connection is what failed) does not
    hide the failure."""
    ledger.begin()
    ending = Ending()
    try:
        yield ending
    except BaseException as e:
        outcome = _outcome_of(e)
        with suppress(Exception):  # the original error is the one to report
            ledger.end(outcome, ending.summary or {}, _message_of(e))
        raise
    ledger.end(ending.outcome, ending.summary or {}, ending.message)


def _outcome_of(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return str(getattr(error, "outcome", "failed"))  # an error may name it (GatedError)


def _message_of(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted (Ctrl-C or a signal)"
    return str(error) or type(error).__name__
