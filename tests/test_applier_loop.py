"""The applier's own loop: batch size, retries counted per apply, approval, the wait
for activations, progress, and what a saved plan's apply reports."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from onenet_apply.apply.applier import (
    BATCH_SIZE,
    MAX_TRANSIENT_RETRIES,
    apply_saved,
    apply_site,
    root_reasons,
)
from onenet_apply.backends.base import TransientError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Action, Kind, Status, Target
from onenet_apply.planning.planner import PlanOptions
from onenet_apply.savedplan.plan_file import SavedPlan, read_saved_plan
from tests.memory_backend import LockingMemoryBackend, Platform
from tests.test_safety_promises import SITE, nothing, site_file

LIFTED_POLICY = "{allow_delete: true, max_change_percent: 100}"


class FlakyBackend:
    """The sandbox, whose first `failures` batches fail before anything happens,
    and whose first `read_failures` reads fail (a lost reply, a Warning)."""

    def __init__(self, backend: SandboxBackend, failures: int, read_failures: int = 0) -> None:
        self.backend = backend
        self.failures = failures
        self.read_failures = read_failures
        self.batches: list[int] = []

    def read_state(self, site: str) -> Any:
        if self.read_failures:
            self.read_failures -= 1
            raise TransientError("the read was not answered")
        return self.backend.read_state(site)

    def execute_batch(self, site: str, actions: Any, record: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise TransientError("the platform did not answer")
        self.batches.append(len(actions))
        return self.backend.execute_batch(site, actions, record)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


class SizelessBackend(FlakyBackend):
    """The sandbox, seen as a backend that names no batch size of its own."""

    def __getattr__(self, name: str) -> Any:
        if name == "batch_size":
            raise AttributeError(name)
        return super().__getattr__(name)


def test_the_sandbox_takes_batches_of_its_own_size(tmp_path: Path) -> None:
    spec = site_file(tmp_path / "site.yaml", range(SandboxBackend.batch_size + 50))
    backend = FlakyBackend(SandboxBackend(tmp_path / "sandbox.db", faults=None), 0)
    report = apply_site(backend, spec, PlanOptions(), nothing)
    assert SandboxBackend.batch_size == 500  # the size docs/design.md and the README give
    assert backend.batches == [500, 50]
    assert len(report.applied) == 550 and report.failed == []


def test_a_backend_that_names_no_batch_size_takes_batches_of_batch_size(tmp_path: Path) -> None:
    """A backend that carries out each action alone gains nothing from large batches,
    and the applier checks the lock before each: it gets the applier's 100."""
    spec = site_file(tmp_path / "site.yaml", range(BATCH_SIZE + 50))
    backend = SizelessBackend(SandboxBackend(tmp_path / "sandbox.db", faults=None), 0)
    report = apply_site(backend, spec, PlanOptions(), nothing)
    assert BATCH_SIZE == 100  # the size docs/design.md gives
    assert backend.batches == [100, 50]
    assert len(report.applied) == 150 and report.failed == []


def test_ocip_names_no_batch_size_of_its_own() -> None:
    """It carries out each action alone: the applier's 100, as the README says."""
    from onenet_apply.backends.ocip.backend import OcipBackend

    assert not hasattr(OcipBackend, "batch_size")


@pytest.mark.parametrize(
    "failures,succeeds", [(MAX_TRANSIENT_RETRIES, True), (MAX_TRANSIENT_RETRIES + 1, False)]
)
def test_one_apply_retries_exactly_max_transient_retries_times(
    tmp_path: Path, failures: int, succeeds: bool
) -> None:
    spec = site_file(tmp_path / "site.yaml", range(3))
    backend = FlakyBackend(SandboxBackend(tmp_path / "sandbox.db", faults=None), failures)
    report = apply_site(backend, spec, PlanOptions(), nothing)
    assert MAX_TRANSIENT_RETRIES == 3
    if succeeds:
        assert report.failed == [] and len(report.applied) == 3
    else:
        assert report.failed == [("(backend)", "the platform did not answer")]
        assert report.applied == [] and backend.read_state(SITE).users == {}


@pytest.mark.parametrize("reads", [1, 2])
def test_failed_reads_are_read_again_within_the_same_retries(tmp_path: Path, reads: int) -> None:
    spec = site_file(tmp_path / "site.yaml", range(3))
    backend = FlakyBackend(SandboxBackend(tmp_path / "sandbox.db", faults=None), 1, reads)
    report = apply_site(backend, spec, PlanOptions(), nothing)
    assert report.failed == [] and len(report.applied) == 3
    backend = FlakyBackend(SandboxBackend(tmp_path / "other.db", faults=None), 3 - reads, reads + 1)
    report = apply_site(backend, spec, PlanOptions(), nothing)  # one failure too many
    assert report.failed == [("(backend)", "the platform did not answer")]
    assert backend.read_state(SITE).users == {}


class LosingBackend(LockingMemoryBackend):
    """A platform without transactions whose answer to the third action is lost."""

    def __init__(self) -> None:
        super().__init__(Platform())
        self.created = 0

    def create_user(self, call: Any, action: Action) -> Any:
        credential = super().create_user(call, action)
        self.created += 1
        if self.created == 3:
            raise TransientError("the answer was lost")
        return credential


def test_actions_done_before_a_lost_answer_are_reported_applied(tmp_path: Path) -> None:
    spec = site_file(tmp_path / "site.yaml", range(5), policy=LIFTED_POLICY)
    report = apply_site(LosingBackend(), spec, PlanOptions(), nothing)
    assert report.failed == []  # the third was carried out: the next read shows it
    assert report.applied == [f"user/u{n}/create" for n in (0, 1, 3, 4)]


def test_a_refused_approval_applies_nothing(tmp_path: Path) -> None:
    spec = site_file(tmp_path / "site.yaml", range(3))
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    shown = []
    report = apply_site(
        backend, spec, PlanOptions(), nothing, approve=lambda p: shown.append(p) or False
    )
    assert report.applied == [] and len(shown) == 1
    assert report.last_plan is shown[0] and len(shown[0].ready) == 3
    assert backend.read_state(SITE).users == {}


def test_nothing_deferred_means_no_wait_for_activations(tmp_path: Path) -> None:
    """--wait-activation waits only while work waits for the carrier."""
    spec = site_file(tmp_path / "site.yaml", range(2))
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    start = time.monotonic()
    report = apply_site(backend, spec, PlanOptions(), nothing, wait_activation=30)
    assert time.monotonic() - start < 10
    assert len(report.applied) == 2 and not report.remaining(Status.DEFERRED)


def test_progress_counts_every_action_from_one(tmp_path: Path) -> None:
    spec = site_file(tmp_path / "site.yaml", range(BATCH_SIZE + 2))
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    backend.batch_size = BATCH_SIZE  # two batches
    seen: list[tuple[int, int, str]] = []
    report = apply_site(
        backend, spec, PlanOptions(), nothing, progress=lambda n, t, a: seen.append((n, t, a.id))
    )
    total = BATCH_SIZE + 2
    assert [(n, t) for n, t, _ in seen] == [(n, total) for n in range(1, total + 1)]
    assert [a for _, _, a in seen] == report.applied


def test_root_reasons_name_the_gates_not_what_waits_behind_them() -> None:
    target = Target("user", "u1")
    actions = [
        Action.make(
            Kind.DELETE, target, status=Status.GATED, reason="deleting needs --allow-delete"
        ),
        Action.make(Kind.CREATE, Target("user", "u2"), status=Status.GATED, reason="waits for x"),
        Action.make(Kind.UPDATE_PROFILE, target, status=Status.GATED, reason=None),
    ]
    assert root_reasons(actions) == ["deleting needs --allow-delete"]


def saved_plan_of(onenet, workdir: Path, users: int) -> tuple[SavedPlan, SandboxBackend]:
    """A saved plan creating `users` users, read back, and the sandbox it was made on."""
    site_file(workdir / "site.yaml", range(users))
    assert onenet("plan", "site.yaml", "--out", "plan.json").code == 0
    saved = read_saved_plan(str(workdir / "plan.json"))
    return saved, SandboxBackend(workdir / ".onenet" / "sandbox.db")


def test_apply_saved_reports_what_it_applied(onenet, workdir: Path) -> None:
    saved, backend = saved_plan_of(onenet, workdir, 3)
    report = apply_saved(backend, saved, nothing)
    assert report.applied == [a.id for a in saved.plan.ready] and len(report.applied) == 3
    assert report.failed == [] and report.unreviewed == []


def test_a_saved_plan_refused_at_the_prompt_applies_nothing(onenet, workdir: Path) -> None:
    saved, backend = saved_plan_of(onenet, workdir, 2)
    report = apply_saved(backend, saved, nothing, approve=lambda p: False)
    assert report.applied == [] and report.failed == []
    assert report.last_plan is not None and len(report.last_plan.ready) == 2
    assert backend.read_state(SITE).users == {}
