"""What one sandbox transaction carries out and records, for the batch that runs it."""

from __future__ import annotations

from dataclasses import dataclass, field

from onenet_apply.backends.base import (
    ActionResult,
    BackendError,
    Credential,
    Recorder,
    retract,
)
from onenet_apply.backends.sandbox.store import now_iso

JournalRow = tuple[str, str, str, str]  # at, action_id, outcome, detail


@dataclass(slots=True)
class Recording:
    """The credentials recorded in one transaction: retracted if it rolls back."""

    record: Recorder | None
    issued: list[Credential] = field(default_factory=list)

    def __call__(self, credentials: list[Credential]) -> None:
        if credentials and self.record is not None:
            # noted first: an interrupt at any instant of the recording, or just after
            # it, is then retracted on the rollback (the recorder takes out what it kept)
            self.issued.extend(credentials)
            self.record(credentials)  # on disk before the commit

    def rolled_back(self) -> None:
        if self.issued:
            retract(self.record, self.issued)


@dataclass(slots=True)
class BatchRun:
    """What one batch carried out, and how it ended early, if it did."""

    done: list[ActionResult] = field(default_factory=list)
    error: BackendError | None = None  # what ended the batch early
    reply_lost: bool = False
    commit_fails: bool = False
    journal: list[JournalRow] = field(default_factory=list)  # written with the batch

    def note(self, action_id: str, outcome: str, detail: str) -> None:
        """A journal row for the batch's transaction, written when the batch ends."""
        self.journal.append((now_iso(), action_id, outcome, detail))
