"""The OCI-P backend's plumbing: the server's answers become the backend's errors
(all refused: nothing changed; a Warning or a partial success: re-read), and the
peer answers each command on its own, refusing what it does not serve and anyone
not logged in."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.backends.base import LockTimeout, RefusedError, SiteLocks, TransientError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.backend import OcipBackend
from onenet_apply.backends.ocip.channel import LoopbackChannel
from onenet_apply.backends.ocip.link import raise_for_faults
from onenet_apply.backends.ocip.peer.context import PeerContext
from onenet_apply.backends.ocip.peer.dispatch import Peer
from onenet_apply.backends.sandbox import SandboxBackend

DELETE = codec.request("UserDeleteRequest", user_id="anna@acme.example")
ERROR = codec.Fault("[Error 4008] User not found", code=4008)


def test_every_answer_an_error_is_a_refusal_naming_the_server_and_code() -> None:
    with pytest.raises(RefusedError) as refused:
        raise_for_faults([DELETE, DELETE], [ERROR, ERROR])
    assert refused.value.rule == "OCI-P error 4008"
    assert str(refused.value) == "UserDeleteRequest: [Error 4008] User not found [OCI-P error 4008]"


@pytest.mark.parametrize(
    "answers",
    [
        [codec.success(), ERROR],  # the first went through
        [ERROR, codec.success()],  # the second went through
        [codec.Fault("[Warning 4010] partly", code=4010, kind="Warning")],
    ],
)
def test_a_partial_success_or_warning_is_transient(answers: list[object]) -> None:
    with pytest.raises(TransientError, match="re-reading"):
        raise_for_faults([DELETE] * len(answers), answers)


def test_successes_pass_through() -> None:
    answers = [codec.success(), codec.success()]
    assert raise_for_faults([DELETE, DELETE], answers) == answers


@pytest.fixture
def peer(tmp_path: Path) -> Peer:
    return Peer(PeerContext(SandboxBackend(str(tmp_path / "s.db"), create=True), "sandbox"))


def test_the_peer_answers_nobody_before_login_and_names_what_it_does_not_serve(
    peer: Peer,
) -> None:
    channel = LoopbackChannel(peer.answer)
    (refused,) = channel.exchange([DELETE])
    assert refused.describe() == "[Error 4103] Not logged in [OCI-P error 4103]"
    peer.trust(channel.connection)
    (answer,) = channel.exchange([codec.request("SystemSoftwareVersionGetRequest")])
    assert "SystemSoftwareVersionGetRequest is not served" in answer.summary


def test_the_peer_answers_a_broken_document_with_an_error(peer: Peer) -> None:
    (answer,) = codec.decode(peer.answer("c", b"<BroadsoftDocument")).commands
    assert isinstance(answer, codec.Fault) and "not an XML document" in answer.summary


def test_a_group_the_server_does_not_know_reads_as_an_empty_site(peer: Peer) -> None:
    channel = LoopbackChannel(peer.answer)
    peer.trust(channel.connection)
    backend = OcipBackend(channel, "sandbox")
    state = backend.read_state("acme")
    assert not state.exists and not state.users
    assert backend.site("acme").domain == "acme.sandbox.invalid"


def test_the_backend_locks_sites_on_this_machine(
    peer: Peer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONENET_LOCK_DIR", str(tmp_path / "locks"))
    backend = OcipBackend(LoopbackChannel(peer.answer), "sandbox", scope="ocip://127.0.0.1/sandbox")
    assert isinstance(backend, SiteLocks)
    other = OcipBackend(LoopbackChannel(peer.answer), "sandbox", scope="ocip://127.0.0.1/sandbox")
    with backend.lock("acme", 0, "apply"), pytest.raises(LockTimeout), other.lock("acme", 0):
        pass
