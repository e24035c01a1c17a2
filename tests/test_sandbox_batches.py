"""Group commit: `execute_batch` carries actions out in order in one transaction.

Each action keeps its own rule checks and atomicity; the batch shares one commit
and one `record` call for its credentials. A failure keeps the actions before it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from onenet_apply.apply.applier import apply_site
from onenet_apply.apply.credentials import CredentialsSink, read_rows
from onenet_apply.backends.base import Credential, RefusedError, TransientError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.faults import Faults
from onenet_apply.model.plan import Action, Kind
from onenet_apply.model.spec import frozen_map
from onenet_apply.planning.planner import PlanOptions
from onenet_apply.sitefile.validate import validate_file
from tests.sandbox_kit import SITE, act, user_values


def creates(*numbers: int, **over: object) -> list[Action]:
    return [act(Kind.CREATE, "user", f"u{n}", **user_values(n, **over)) for n in numbers]


def journal(backend: SandboxBackend) -> list[tuple[str, str]]:
    return [(e.action_id, e.outcome) for e in backend.journal(SITE)]


@pytest.fixture
def backend(tmp_path: Path) -> SandboxBackend:
    b = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    b.configure(SITE)
    return b


def test_a_batch_commits_together_and_records_its_credentials_once_before(
    tmp_path: Path, backend: SandboxBackend
) -> None:
    other = SandboxBackend(tmp_path / "sandbox.db", faults=None)  # another process's view
    calls: list[tuple[list[str], int]] = []

    def record(credentials: list[Credential]) -> None:
        calls.append(([c.user_id for c in credentials], len(other.read_state(SITE).users)))

    outcome = backend.execute_batch(SITE, creates(1, 2, 3), record)
    assert outcome.error is None
    assert [r.action_id for r in outcome.results] == [
        "user/u1/create",
        "user/u2/create",
        "user/u3/create",
    ]
    assert calls == [(["u1", "u2", "u3"], 0)]  # one call, while no reader saw any of them
    assert sorted(other.read_state(SITE).users) == ["u1", "u2", "u3"]
    for result in outcome.results:
        credential = result.credential
        assert credential is not None
        assert backend.verify_login(SITE, credential.user_id, credential.password)


def test_a_refusal_keeps_the_actions_before_it_and_runs_none_after(
    backend: SandboxBackend,
) -> None:
    recorded: list[str] = []
    batch = [*creates(1, 2), *creates(3, number="+493012345601"), *creates(4)]
    outcome = backend.execute_batch(SITE, batch, lambda cs: recorded.extend(c.user_id for c in cs))
    assert isinstance(outcome.error, RefusedError) and outcome.error.rule == "number-unique"
    assert [r.action_id for r in outcome.results] == ["user/u1/create", "user/u2/create"]
    assert sorted(backend.read_state(SITE).users) == ["u1", "u2"]
    assert recorded == ["u1", "u2"]
    assert journal(backend)[-3:] == [
        ("user/u1/create", "ok"),
        ("user/u2/create", "ok"),
        ("user/u3/create", "refused"),
    ]
    assert backend.check_consistency(SITE) == []


def test_a_refused_action_is_undone_alone_even_after_its_first_writes(
    backend: SandboxBackend,
) -> None:
    """The licence check runs after the user's row and number are written: the
    savepoint takes back exactly those writes, nothing of the actions before."""
    backend.configure(SITE, licences={"standard": 1})
    outcome = backend.execute_batch(SITE, creates(1, 2, options=[]))
    assert isinstance(outcome.error, RefusedError) and outcome.error.rule == "licences"
    assert sorted(backend.read_state(SITE).users) == ["u1"]
    backend.configure(SITE, licences={})
    # u2's number and extension were released with it: the next action can take them
    backend.execute(SITE, creates(5, number="+493012345602", extension="5602")[0])
    assert backend.check_consistency(SITE) == []


def test_a_refusal_mid_batch_commits_the_credentials_recorded_and_journals_each_action_once(
    backend: SandboxBackend,
) -> None:
    """A batch runs whole, then, after a refusal, again up to it: what commits is what
    was recorded (each password the one the platform holds), journaled once per action."""
    recorded: list[Credential] = []
    batch = [*creates(1, 2, 3), *creates(4, extension="5601"), *creates(5)]
    outcome = backend.execute_batch(SITE, batch, recorded.extend)
    assert isinstance(outcome.error, RefusedError) and outcome.error.rule == "extension-unique"
    assert [r.credential for r in outcome.results] == recorded
    assert [c.user_id for c in recorded] == ["u1", "u2", "u3"]
    assert all(backend.verify_login(SITE, c.user_id, c.password) for c in recorded)
    assert journal(backend) == [
        ("user/u1/create", "ok"),
        ("user/u2/create", "ok"),
        ("user/u3/create", "ok"),
        ("user/u4/create", "refused"),
    ]
    assert sorted(backend.read_state(SITE).users) == ["u1", "u2", "u3"]
    assert backend.check_consistency(SITE) == []


def test_a_batch_run_again_after_a_refusal_strikes_no_fault_twice(tmp_path: Path) -> None:
    """Injected faults count each action once: the 5th action fails, whatever ran again."""
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=Faults(nth=5))
    first = backend.execute_batch(SITE, [*creates(1, 2), *creates(3, number="+493012345601")])
    assert isinstance(first.error, RefusedError) and len(first.results) == 2
    second = backend.execute_batch(SITE, creates(4, 5, 6))
    assert isinstance(second.error, TransientError) and "user/u5/create" in str(second.error)
    assert [r.action_id for r in second.results] == ["user/u4/create"]


def test_a_transient_failure_keeps_the_actions_before_it(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=Faults(nth=3))
    outcome = backend.execute_batch(SITE, creates(1, 2, 3, 4))
    assert isinstance(outcome.error, TransientError)
    assert len(outcome.results) == 2
    assert sorted(backend.read_state(SITE).users) == ["u1", "u2"]
    assert journal(backend)[-1] == ("user/u3/create", "failed")


def test_a_lost_reply_raises_but_what_was_done_is_committed_and_recorded(
    tmp_path: Path,
) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=Faults(nth=2, mode="lost-reply"))
    recorded: list[Credential] = []
    with pytest.raises(TransientError, match="reply lost"):
        backend.execute_batch(SITE, creates(1, 2, 3), recorded.extend)
    assert sorted(backend.read_state(SITE).users) == ["u1", "u2"]
    assert [c.user_id for c in recorded] == ["u1", "u2"]
    assert all(backend.verify_login(SITE, c.user_id, c.password) for c in recorded)


def test_a_failing_record_commits_nothing_of_the_batch(backend: SandboxBackend) -> None:
    def full_disk(credentials: list[Credential]) -> None:
        raise OSError("No space left on device")

    with pytest.raises(OSError):
        backend.execute_batch(SITE, creates(1, 2, 3), full_disk)
    assert backend.read_state(SITE).users == {}
    assert [a for a, _ in journal(backend)] == []


def test_an_empty_batch_does_nothing(backend: SandboxBackend) -> None:
    assert backend.execute_batch(SITE, []).results == ()
    assert journal(backend) == []


def test_the_applier_stops_at_a_refusal_and_keeps_earlier_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More users than the site has licences for, on a backend that does not report
    its licences: the planner cannot know, the sandbox refuses; every action before
    the refusal stays applied, in all batches (a whole batch of 100, then 20 more)."""
    lines = ["version: 1", "site: {id: berlin, name: Berlin, country: DE, extension_length: 4}"]
    lines.append("users:")
    for n in range(150):
        lines.append(
            f"  u{n}: {{first_name: F, last_name: L{n}, number: '+4930123{n:05d}',"
            " package: standard, desk_phone: yealink-t54w}"
        )
    site = tmp_path / "site.yaml"
    site.write_text("\n".join(lines) + "\n")
    spec = validate_file(str(site)).spec
    assert spec is not None
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    monkeypatch.setattr(backend, "batch_size", 100)
    backend.configure(SITE, licences={"standard": 120})
    read_state = backend.read_state
    monkeypatch.setattr(
        backend, "read_state", lambda site: replace(read_state(site), licences=frozen_map())
    )
    with CredentialsSink(SITE, directory=tmp_path) as sink:
        report = apply_site(backend, spec, PlanOptions(), sink)
    assert len(report.applied) == 120
    [(failed_id, why)] = report.failed
    assert failed_id == report.last_plan.ready[120].id and "[licences]" in why
    assert len(backend.read_state(SITE).users) == 120
    [csv_file] = tmp_path.glob("onenet-credentials-*.csv")
    assert len(read_rows(csv_file)) == 120
