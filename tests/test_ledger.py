"""What an apply and a credentials reset tell their ledger (apply/ledger.py): the
shared store's history is only as complete, and its lock check only as timely, as
these calls. A recording ledger stands in for the store; no PostgreSQL needed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from onenet_apply.apply.applier import GatedError, apply_saved, apply_site
from onenet_apply.apply.credentials import CredentialsSink
from onenet_apply.apply.credentials_reset import reset_credentials
from onenet_apply.apply.ledger import ActionOutcome, batch_outcomes, ledger_run
from onenet_apply.apply.locking import BothLocks, site_locks
from onenet_apply.backends.base import BatchResult, RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Action, Kind, Target
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.savedplan.plan_file import SavedPlan
from tests.test_safety_promises import SITE, built, nothing, site_file

BATCH = SandboxBackend.batch_size  # the sandbox's ready actions per batch


class Stop(Exception):
    """What a ledger raises to stop a run (as the store does when its lock is lost)."""


@dataclass
class RecordingLedger:
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    stop_before_batch: int | None = None  # raise Stop before this batch (1-based)
    batches: int = 0

    def begin(self) -> None:
        self.calls.append(("begin",))

    def planned(self, the_plan: Any, plan_digest: str = "") -> None:
        self.calls.append(("planned", the_plan.spec_digest, the_plan.state_digest, plan_digest))

    def before_batch(self) -> None:
        self.batches += 1
        self.calls.append(("before_batch", self.batches))
        if self.stop_before_batch == self.batches:
            raise Stop("the lock is gone")

    def record(self, outcomes: Sequence[ActionOutcome]) -> None:
        self.calls.append(("record", tuple(outcomes)))

    def end(self, outcome: str, summary: Mapping[str, int], message: str = "") -> None:
        self.calls.append(("end", outcome, dict(summary), message))

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == name]

    def outcomes(self) -> list[ActionOutcome]:
        return [o for c in self.named("record") for o in c[1]]


def test_an_apply_tells_the_ledger_each_step_in_order(tmp_path: Path) -> None:
    spec = site_file(tmp_path / "site.yaml", range(BATCH + 5))
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    ledger = RecordingLedger()
    report = apply_site(backend, spec, PlanOptions(), nothing, ledger=ledger)
    names = [c[0] for c in ledger.calls]
    assert names == ["begin", "planned", "before_batch", "record", "before_batch", "record", "end"]
    planned = ledger.named("planned")[0]
    assert planned[1] == report.last_plan.spec_digest and planned[3] == ""
    assert [o.action_id for o in ledger.outcomes()] == report.applied
    assert {o.outcome for o in ledger.outcomes()} == {"ok"}
    assert ledger.outcomes()[0].message.startswith("create user/u0 (")
    end = ledger.named("end")[0]
    assert end[1] == "ok" and end[2]["applied"] == BATCH + 5 and end[2]["failed"] == 0


def test_a_ledger_that_stops_the_run_stops_it_before_the_batch(tmp_path: Path) -> None:
    spec = site_file(tmp_path / "site.yaml", range(BATCH + 5))
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    ledger = RecordingLedger(stop_before_batch=2)
    with pytest.raises(Stop):
        apply_site(backend, spec, PlanOptions(), nothing, ledger=ledger)
    assert len(backend.read_state(SITE).users) == BATCH  # the second batch never ran
    assert ledger.named("end") == [("end", "failed", {}, "the lock is gone")]


def test_a_refusal_is_recorded_with_the_backends_reason_and_fails_the_run(tmp_path: Path) -> None:
    spec = site_file(tmp_path / "site.yaml", range(3))
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    refusing = RefusingBackend(backend, refuse_index=1)
    ledger = RecordingLedger()
    apply_site(refusing, spec, PlanOptions(), nothing, ledger=ledger)
    outcomes = ledger.outcomes()
    assert [o.outcome for o in outcomes] == ["ok", "refused"]
    assert outcomes[1].message == "number in use elsewhere [number-in-use]"
    end = ledger.named("end")[0]
    assert end[1] == "failed" and "number in use elsewhere" in end[3]


class RefusingBackend:
    """The sandbox, refusing the batch's action at `refuse_index` (the first batch)."""

    def __init__(self, backend: SandboxBackend, refuse_index: int) -> None:
        self.backend = backend
        self.refuse_index = refuse_index

    def execute_batch(self, site: str, actions: Any, record: Any) -> BatchResult:
        done = self.backend.execute_batch(site, actions[: self.refuse_index], record)
        return BatchResult(done.results, RefusedError("number-in-use", "number in use elsewhere"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


def test_batch_outcomes_name_a_transient_failure_failed_and_a_refusal_refused() -> None:
    from onenet_apply.backends.base import ActionResult, TransientError

    batch = [Action.make(Kind.DELETE, Target("user", u)) for u in ("a", "b", "c")]
    lost = batch_outcomes(batch, BatchResult((ActionResult(batch[0].id),), TransientError("x")))
    assert [(o.action_id, o.outcome) for o in lost] == [
        (batch[0].id, "ok"),
        (batch[1].id, "failed"),
    ]
    refused = batch_outcomes(batch, BatchResult((), RefusedError("r", "no")))
    assert [(o.outcome, o.message) for o in refused] == [("refused", "no [r]")]
    whole = batch_outcomes(batch, BatchResult(tuple(ActionResult(a.id) for a in batch)))
    assert [o.outcome for o in whole] == ["ok"] * 3


def test_a_declined_plan_and_a_plan_with_nothing_to_do_end_apart(tmp_path: Path) -> None:
    spec = site_file(tmp_path / "site.yaml", range(2))
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    declined = RecordingLedger()
    apply_site(backend, spec, PlanOptions(), nothing, approve=lambda _: False, ledger=declined)
    assert declined.named("end")[0][1] == "declined"
    apply_site(backend, spec, PlanOptions(), nothing)
    unchanged = RecordingLedger()
    apply_site(backend, spec, PlanOptions(), nothing, approve=lambda _: False, ledger=unchanged)
    assert unchanged.named("end")[0][1] == "ok"


def test_pending_work_and_a_gate_are_the_runs_outcome(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    spec = site_file(tmp_path / "site.yaml", range(2))
    ledger = RecordingLedger()
    apply_site(backend, spec, PlanOptions(), nothing, ledger=ledger)
    assert ledger.named("end")[0][1] == "ok"  # new users are pending, nothing deferred
    backend = built(tmp_path / "big", range(10))
    gated = RecordingLedger()
    with pytest.raises(GatedError):
        apply_site(
            backend,
            site_file(tmp_path / "few.yaml", range(2)),
            PlanOptions(),
            nothing,
            ledger=gated,
        )
    assert gated.named("end")[0][1] == "gated"


def test_ctrl_c_ends_the_run_as_interrupted_and_a_failing_end_hides_nothing() -> None:
    ledger = RecordingLedger()
    with pytest.raises(KeyboardInterrupt), ledger_run(ledger):
        raise KeyboardInterrupt
    assert ledger.named("end")[0][1] == "interrupted"

    class BrokenEnd(RecordingLedger):
        def end(self, outcome: str, summary: Mapping[str, int], message: str = "") -> None:
            raise OSError("the connection is gone too")

    with pytest.raises(Stop, match="first"), ledger_run(BrokenEnd()):
        raise Stop("first")


def test_a_saved_plans_apply_records_its_plan_digest(tmp_path: Path) -> None:
    spec = site_file(tmp_path / "site.yaml", range(2))
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    made = plan(spec, backend.read_state(SITE), PlanOptions(), catalogue=backend.catalogue())
    saved = SavedPlan(made, spec, PlanOptions(), "sha256:the-saved-plans-digest")
    ledger = RecordingLedger()
    apply_saved(backend, saved, nothing, ledger=ledger)
    assert ledger.named("planned")[0][3] == "sha256:the-saved-plans-digest"
    assert len(ledger.outcomes()) == 2 and ledger.named("end")[0][1] == "ok"


def test_a_credentials_reset_checks_before_each_user_and_records_skips(tmp_path: Path) -> None:
    backend = built(tmp_path, range(3), desk_phone=True)
    ledger = RecordingLedger()
    sink = CredentialsSink(SITE, str(tmp_path / "out.csv"))
    with pytest.raises(Exception) as unknown:
        reset_credentials(backend, SITE, ("nobody",), sink, ledger=ledger)
    assert "no such user" in str(unknown.value)
    ledger = RecordingLedger()
    sink = CredentialsSink(SITE, str(tmp_path / "out2.csv"))
    report = reset_credentials(backend, SITE, ("u0", "u1"), sink, ledger=ledger)
    assert report.done == ["u0", "u1"]
    assert [c[0] for c in ledger.calls] == [
        "begin", "record", "before_batch", "record", "before_batch", "record", "end",
    ]  # fmt: skip
    ok = [o for o in ledger.outcomes() if o.outcome == "ok"]
    assert [o.action_id for o in ok] == ["user/u0/reset-login", "user/u1/reset-login"]
    assert all(o.message == "new desk phone login details issued" for o in ok)
    assert ledger.named("end")[0][1:3] == ("ok", {"reset": 2, "skipped": 0})
    stopped = RecordingLedger(stop_before_batch=1)
    sink = CredentialsSink(SITE, str(tmp_path / "out3.csv"))
    with pytest.raises(Stop):
        reset_credentials(backend, SITE, ("u2",), sink, ledger=stopped)
    assert sink.written == 0  # stopped before the reset: nothing issued


@dataclass
class NoteLocks:
    name: str
    held: list[str]

    def lock(self, site_id: str, timeout: float, command: str = "") -> Any:
        from contextlib import contextmanager

        @contextmanager
        def holding() -> Any:
            self.held.append(self.name)
            yield
            self.held.append(f"{self.name} released")

        return holding()


def test_a_store_lock_is_taken_before_the_backends_own_and_let_go_after(tmp_path: Path) -> None:
    held: list[str] = []
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    both = site_locks(backend, NoteLocks("store", held))
    assert isinstance(both, BothLocks)
    with both.lock(SITE, 1):
        assert held == ["store"]
        assert backend.lock_holder(SITE) is not None  # the sandbox's own lock, held too
    assert held == ["store", "store released"] and backend.lock_holder(SITE) is None
    alone = NoteLocks("store", [])
    assert site_locks(object(), alone) is alone  # type: ignore[arg-type]
