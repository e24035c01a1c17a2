"""The backend contract, run against every backend: the sandbox, a toy one, and
BroadWorks over OCI-P (against the loopback peer, served on a socket).

A new backend joins by adding itself to the `contender` fixture: these tests hold it to
what the planner and the applier rely on (docs/design.md, "The backend
contract"): URL lookup, convergence, atomic refusals that end a batch,
credentials recorded before the platform commits them, login resets, and the
site lock and journal where it keeps them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onenet_apply.apply.applier import apply_site
from onenet_apply.backends import open_backend, registry
from onenet_apply.backends.base import (
    Backend,
    BackendError,
    ConflictError,
    Credential,
    Journal,
    LockTimeout,
    SiteLocks,
)
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.passwords import password_problems
from onenet_apply.model.plan import Action, Kind, Target
from onenet_apply.planning.planner import plan
from onenet_apply.sitefile.validate import validate_file
from tests.memory_backend import (
    PLATFORMS,
    LockingMemoryBackend,
    MemoryBackend,
    Platform,
    open_memory,
)
from tests.planner_kit import LIFTED, head, spec_of, user

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "site.yaml"
SITE = "t"
_names = itertools.count()


@dataclass
class Contender:
    """How to reach one backend: a URL, the class it opens as, and its carrier."""

    url: str
    kind: type
    settle: Callable[[Backend, str], None]
    journal: bool = True  # whether it keeps a journal of its own


def _activate_all(backend: Backend, site: str) -> None:
    assert isinstance(backend, SandboxBackend)
    if any(
        c.lifecycle == "pending"
        for kind in ("user", "hunt_group", "call_centre")
        for c in backend.read_state(site).section(kind).values()
    ):
        backend.activate(site)


@pytest.fixture(params=["sandbox", "memory", "ocip"])
def contender(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Contender]:
    if request.param == "sandbox":
        yield Contender(f"sandbox:{tmp_path / 'sandbox.db'}", SandboxBackend, _activate_all)
        return
    if request.param == "ocip":
        yield from _ocip_contender(tmp_path, monkeypatch)
        return
    registry.register("memory", open_memory)
    name = f"contract-{next(_names)}"
    try:
        yield Contender(f"memory:{name}", LockingMemoryBackend, lambda backend, site: None)
    finally:
        registry.unregister("memory")
        PLATFORMS.pop(name, None)


def _ocip_contender(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Contender]:
    """The loopback peer on a free port, serving a sandbox file whose carrier settles."""
    from onenet_apply.backends.ocip import url
    from onenet_apply.backends.ocip.backend import OcipBackend
    from onenet_apply.backends.ocip.peer import login
    from onenet_apply.backends.ocip.peer.context import PeerContext
    from onenet_apply.backends.ocip.peer.dispatch import Peer
    from tests.ocip_kit import PASSWORD, USER, running_server

    path = tmp_path / "peer.db"
    monkeypatch.setenv(url.USER_VARIABLE, USER)
    monkeypatch.setenv(url.PASSWORD_VARIABLE, PASSWORD)
    monkeypatch.setenv("ONENET_LOCK_DIR", str(tmp_path / "locks"))
    peer = Peer(
        PeerContext(SandboxBackend(path, create=True), "sandbox"),
        gate=login.Gate(url.Login(USER, PASSWORD), "sandbox"),
    )

    def carrier(backend: Backend, site: str) -> None:
        sandbox = SandboxBackend(path)
        try:
            _activate_all(sandbox, site)
        finally:
            sandbox.close()

    with running_server(peer) as server:
        url_text = f"ocip://127.0.0.1:{server.port}/sandbox"
        yield Contender(url_text, OcipBackend, carrier, journal=False)


@pytest.fixture
def backend(contender: Contender) -> Iterator[Backend]:
    opened = open_backend(contender.url, create=True)
    yield opened
    opened.close()


class Recorded(list[Credential]):
    """A recorder that keeps what it is given, and may be told to fail."""

    fail = False

    def __call__(self, credentials: list[Credential]) -> None:
        if self.fail:
            raise OSError("the disk is full")
        self.extend(credentials)

    def retract(self, credentials: list[Credential]) -> None:
        """What it kept of them: a call that raised may be retracted too."""
        for credential in credentials:
            if credential in self:
                self.remove(credential)


def _ready(backend: Backend, body: str) -> list[Action]:
    desired = spec_of(head() + body)
    return list(
        plan(desired, backend.read_state(SITE), LIFTED, catalogue=backend.catalogue()).ready
    )


TWO_USERS = "users:\n" + user("anna", 1, desk_phone="cisco-8841") + user("ben", 2)


def test_the_registry_opens_it_by_url_scheme(contender: Contender, backend: Backend) -> None:
    assert type(backend) is contender.kind
    assert contender.url.partition(":")[0] in registry.schemes()


def test_the_example_site_converges_to_an_empty_plan(
    contender: Contender, backend: Backend
) -> None:
    result = validate_file(str(EXAMPLE), backend.catalogue())
    assert result.spec is not None
    site = result.spec.site.id
    for _ in range(4):
        the_plan = plan(
            result.spec, backend.read_state(site), LIFTED, catalogue=backend.catalogue()
        )
        outcome = backend.execute_batch(site, the_plan.ready, Recorded())
        assert outcome.error is None, outcome.error
        contender.settle(backend, site)
    final = plan(result.spec, backend.read_state(site), LIFTED, catalogue=backend.catalogue())
    assert final.empty, [a.id for a in final.actions]


def test_a_refusal_ends_the_batch_and_keeps_what_came_before(backend: Backend) -> None:
    anna, ben = _ready(backend, TWO_USERS)
    recorded = Recorded()
    outcome = backend.execute_batch(SITE, [anna, anna, ben], recorded)
    assert [r.action_id for r in outcome.results] == [anna.id]
    # the refused second create kept no login details, whenever it made them
    assert [c.user_id for c in recorded] == ["anna"]
    assert isinstance(outcome.error, ConflictError | BackendError)
    assert set(backend.read_state(SITE).users) == {"anna"}


def test_execute_raises_the_refusal_and_changes_nothing(backend: Backend) -> None:
    anna, _ = _ready(backend, TWO_USERS)
    backend.execute(SITE, anna, Recorded())
    before = backend.read_state(SITE)
    with pytest.raises(BackendError):
        backend.execute(SITE, anna, Recorded())
    assert backend.read_state(SITE) == before


def test_an_action_no_operation_carries_out_is_refused(backend: Backend) -> None:
    wrong = Action.make(Kind.SET_MEMBERS, Target("user", "anna"), {"members": ([], ["x"])})
    with pytest.raises(ConflictError, match="users have no set-members action"):
        backend.execute(SITE, wrong, Recorded())


def test_every_issued_credential_is_recorded_before_the_platform_keeps_it(
    backend: Backend,
) -> None:
    anna, ben = _ready(backend, TWO_USERS)
    recorded = Recorded()
    outcome = backend.execute_batch(SITE, [anna, ben], recorded)
    issued = [r.credential for r in outcome.results if r.credential is not None]
    assert [c.user_id for c in issued] == ["anna"] and recorded == issued
    [credential] = issued
    assert credential.login_username == f"{credential.username}.{credential.extension}"
    assert password_problems(credential.password) == []


def test_a_credential_that_cannot_be_recorded_is_never_issued(backend: Backend) -> None:
    anna, _ = _ready(backend, TWO_USERS)
    recorded = Recorded()
    recorded.fail = True
    with pytest.raises(OSError, match="disk is full"):
        backend.execute_batch(SITE, [anna], recorded)
    assert "anna" not in backend.read_state(SITE).users


def test_login_details_are_reset_or_set_and_recorded(
    contender: Contender, backend: Backend
) -> None:
    for action in _ready(backend, TWO_USERS):
        backend.execute(SITE, action, Recorded())
    contender.settle(backend, SITE)
    recorded = Recorded()
    reset = backend.reset_login(SITE, "anna", recorded)
    chosen = backend.set_password(SITE, "anna", "Chosen-Pass-2024", recorded)
    assert (reset.event, chosen.event) == ("reset", "set")
    assert chosen.password == "Chosen-Pass-2024"
    assert recorded == [reset, chosen]


def test_the_site_lock_lets_one_holder_in_at_a_time(contender: Contender, backend: Backend) -> None:
    assert isinstance(backend, SiteLocks)
    other = open_backend(contender.url)
    assert isinstance(other, SiteLocks)
    try:
        with (
            backend.lock(SITE, 1.0, "first"),
            pytest.raises(LockTimeout),
            other.lock(SITE, 0.2, "second"),
        ):
            pass
        with other.lock(SITE, 1.0, "second"):
            pass
    finally:
        other.close()


def test_the_journal_names_each_action_carried_out(contender: Contender, backend: Backend) -> None:
    """Where the backend keeps a journal; one that keeps none (BroadWorks) claims none."""
    assert isinstance(backend, Journal) is contender.journal
    if not contender.journal:
        return
    actions = _ready(backend, TWO_USERS)
    backend.execute_batch(SITE, actions, Recorded())
    entries = backend.journal(SITE)
    assert [(e.action_id, e.outcome) for e in entries] == [(a.id, "ok") for a in actions]


def test_a_backend_without_a_site_lock_is_applied_to_only_under_a_shared_one() -> None:
    """Two applies must never run at once: a backend that keeps no lock (the lock
    belongs to a shared store then) is refused, and runs under the store's lock."""
    platform = Platform()
    lockless = MemoryBackend(platform)
    assert not isinstance(lockless, SiteLocks)
    desired = spec_of(head() + TWO_USERS)
    with pytest.raises(BackendError, match="keeps no site lock, so two applies could run"):
        apply_site(lockless, desired, LIFTED, Recorded())
    assert not platform.sites  # refused before anything was read or changed
    store = LockingMemoryBackend(Platform())
    report = apply_site(lockless, desired, LIFTED, Recorded(), locks=store)
    assert sorted(report.applied) == ["user/anna/create", "user/ben/create"]
    with store.lock(SITE, 1.0), pytest.raises(LockTimeout):  # the store's lock is the one held
        apply_site(lockless, desired, LIFTED, Recorded(), locks=store, lock_timeout=0.1)
