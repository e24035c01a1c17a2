"""OCI-P over real sockets on 127.0.0.1: the nonce and LoginRequest22V5 login, a
refused login, a session the server forgot, a reply lost after the server
committed, a Warning, a read timeout, a garbled reply, the rate limit, and TLS
verified against a private authority. Every document the client sends passes
the R25 schema, and no message holds the password."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onenet_apply.backends.base import BackendError, TransientError
from onenet_apply.backends.ocip import codec, transport, url
from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.peer import login
from onenet_apply.backends.ocip.peer.context import PeerContext
from onenet_apply.backends.ocip.peer.dispatch import Peer
from onenet_apply.backends.ocip.peer.faults import FaultPlan
from onenet_apply.backends.ocip.peer.server import Limits, tls_context
from onenet_apply.backends.ocip.transport import LoginRefused, SocketChannel
from onenet_apply.backends.sandbox import SandboxBackend
from tests.conftest import EXAMPLE
from tests.ocip_kit import PASSWORD, USER, DocumentTap, running_server, self_signed

READ = codec.request("GroupGetRequest22V5", service_provider_id="sandbox", group_id="acme")
WRITE = codec.request("UserDeleteRequest", user_id="anna@acme.example")
LOGIN = ["AuthenticationRequest", "LoginRequest22V5"]


class Handlers:
    """Two requests the test serves itself: a read and a write, counted."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: Counter[str] = Counter()
        self.delay = delay

    def table(self) -> dict[str, Any]:
        return {"GroupGetRequest22V5": self.read, "UserDeleteRequest": self.write}

    def read(self, ctx: PeerContext, request: Any) -> Any:
        self.calls["read"] += 1
        return codec.response(
            "GroupGetResponse22V5",
            default_domain="acme.example",
            user_limit=100,
            user_count=0,
            time_zone="Europe/London",
            time_zone_display_name="(GMT) Europe/London",
            service_provider_id=request.service_provider_id,
            group_id=request.group_id,
        )

    def write(self, ctx: PeerContext, request: Any) -> Any:
        self.calls["write"] += 1
        time.sleep(self.delay)
        return codec.success()


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


def make_peer(tmp_path: Path, handlers: Handlers, faults: str = "") -> Peer:
    return Peer(
        PeerContext(SandboxBackend(str(tmp_path / "s.db"), create=True), "sandbox"),
        handlers=handlers.table(),
        gate=login.Gate(url.Login(USER, PASSWORD), "sandbox"),
        faults=FaultPlan.parse(faults),
    )


def channel(
    port: int, tap: DocumentTap, query: str = "", password: str = PASSWORD
) -> SocketChannel:
    address = url.parse("ocip", f"//127.0.0.1:{port}/sandbox{query}")
    return SocketChannel(address, url.Login(USER, password), taps=[tap])


def said(error: pytest.ExceptionInfo[BaseException]) -> str:
    """The error's text, checked to hold no password."""
    text = f"{error.value} {error.value!r}"
    assert PASSWORD not in text
    return str(error.value)


@pytest.fixture
def served(tmp_path: Path, handlers: Handlers, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A peer on a free port, with the faults and limits `serving` gives."""
    options = getattr(request, "param", {})
    peer = make_peer(tmp_path, handlers, options.get("faults", ""))
    with running_server(peer, limits=options.get("limits")) as server:
        yield server


def serving(**options: Any) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("served", [options], indirect=True, ids=["peer"])


def wait_for(condition: Any) -> None:
    deadline = time.monotonic() + 2
    while not condition():
        assert time.monotonic() < deadline, "the server did not get there in 2 s"
        time.sleep(0.01)


def test_login_with_the_nonce_then_LoginRequest22V5_and_logout_on_close(
    served: Any, sent_documents: DocumentTap
) -> None:
    client = channel(served.port, sent_documents)
    (answer,) = client.exchange([READ])
    assert answer.default_domain == "acme.example"
    assert sent_documents.types() == [*LOGIN, "GroupGetRequest22V5"]
    assert len(served.peer.gate.logged_in) == 1
    client.close()
    assert sent_documents.types()[-1] == "LogoutRequest"
    wait_for(lambda: not served.peer.gate.logged_in)


def test_several_commands_travel_in_one_document(
    served: Any, handlers: Handlers, sent_documents: DocumentTap
) -> None:
    answers = channel(served.port, sent_documents).exchange([READ, WRITE, WRITE])
    assert [type(a).__name__ for a in answers] == [
        "GroupGetResponse22V5",
        "SuccessResponse",
        "SuccessResponse",
    ]
    assert len(sent_documents.documents) == 3 and handlers.calls == {"read": 1, "write": 2}


def test_a_wrong_password_is_refused_clearly(served: Any, sent_documents: DocumentTap) -> None:
    with pytest.raises(LoginRefused) as refused:
        channel(served.port, sent_documents, password="Wrong-pass-123").exchange([READ])
    assert said(refused) == (
        f"ocip://127.0.0.1:{served.port}/sandbox refused the login of {USER}: "
        "[Error 4962] Invalid user id or password [OCI-P error 4962]"
    )
    assert "Wrong-pass-123" not in str(refused.value)


@serving(faults="expire-session:at=2")
def test_an_expired_session_logs_in_again_and_resends_what_was_not_done(
    served: Any, handlers: Handlers, sent_documents: DocumentTap
) -> None:
    client = channel(served.port, sent_documents)
    client.exchange([WRITE])
    (answer,) = client.exchange([WRITE])  # the server forgot the session: nothing done
    assert type(answer).__name__ == "SuccessResponse"
    assert handlers.calls["write"] == 2  # each carried out once
    assert sent_documents.types() == [
        *LOGIN,
        "UserDeleteRequest",
        "UserDeleteRequest",
        *LOGIN,
        "UserDeleteRequest",
    ]


@serving(faults="drop-after-commit:at=1")
def test_a_reply_lost_after_a_commit_is_transient_and_the_next_document_reconnects(
    served: Any, handlers: Handlers, sent_documents: DocumentTap
) -> None:
    client = channel(served.port, sent_documents)
    with pytest.raises(TransientError) as lost:
        client.exchange([WRITE])
    assert "no whole reply (the server closed the connection)" in said(lost)
    assert "re-reading the site" in str(lost.value)
    assert handlers.calls["write"] == 1  # the server did it: the client must not send it again
    (answer,) = client.exchange([READ])
    assert answer.group_id == "acme"


@serving(faults="drop-after-commit:at=1")
def test_a_document_of_reads_is_asked_again_after_a_lost_reply(
    served: Any, handlers: Handlers, sent_documents: DocumentTap
) -> None:
    (answer,) = channel(served.port, sent_documents).exchange([READ])
    assert answer.group_id == "acme" and handlers.calls["read"] == 2


@serving(faults="warning:once")
def test_a_warning_is_transient(
    served: Any, handlers: Handlers, sent_documents: DocumentTap
) -> None:
    link = SiteLink(channel(served.port, sent_documents), "sandbox", "acme", "acme.example")
    with pytest.raises(TransientError) as warned:
        link.send(WRITE)
    assert "UserDeleteRequest: [Warning 4999]" in said(warned) and "re-reading" in str(warned.value)
    assert handlers.calls["write"] == 1
    link.send(WRITE)  # only once


@serving(limits=Limits(idle_timeout=0.2))
def test_a_connection_the_server_closed_while_idle_is_replaced_before_sending(
    served: Any, handlers: Handlers, sent_documents: DocumentTap
) -> None:
    client = channel(served.port, sent_documents)
    client.exchange([WRITE])
    time.sleep(0.5)
    client.exchange([WRITE])  # no TransientError: nothing was lost
    assert handlers.calls["write"] == 2
    assert sent_documents.types() == [*LOGIN, "UserDeleteRequest", *LOGIN, "UserDeleteRequest"]


def test_a_read_timeout_is_transient(tmp_path: Path, sent_documents: DocumentTap) -> None:
    slow = Handlers(delay=1.0)
    with running_server(make_peer(tmp_path, slow)) as server:
        with pytest.raises(TransientError) as late:
            channel(server.port, sent_documents, "?timeout=0.3").exchange([WRITE])
        assert "no whole reply (timed out)" in said(late)


@pytest.fixture
def garbling_server() -> Iterator[int]:
    """A server that answers each document with one that is not OCI-P."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        sock, _ = listener.accept()
        with sock, contextlib.suppress(OSError):
            while sock.recv(65536):
                sock.sendall(b"<nonsense/></BroadsoftDocument>")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()


def test_a_garbled_reply_is_transient(garbling_server: int, sent_documents: DocumentTap) -> None:
    with pytest.raises(TransientError) as garbled:
        channel(garbling_server, sent_documents).exchange([WRITE])
    assert "no whole reply (a reply that is not OCI-P)" in said(garbled)


def test_the_rate_limit_spaces_documents_by_their_requests(
    served: Any, sent_documents: DocumentTap
) -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 6))
        now[0] += seconds

    client = channel(served.port, sent_documents, "?rate=10")
    client.clock, client.sleep = lambda: now[0], sleep
    client.exchange([READ, READ])  # after the two login documents
    client.exchange([READ])
    assert sleeps == [0.1, 0.1, 0.2]  # 5 requests over 0.4 s: never more than 10 a second


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


def test_tls_verified_against_a_private_authority_and_refused_without_it(
    tmp_path: Path, handlers: Handlers, certificate: tuple[Path, Path], sent_documents: DocumentTap
) -> None:
    cert, key = certificate
    with running_server(
        make_peer(tmp_path, handlers), tls=tls_context(str(cert), str(key))
    ) as server:
        trusted = url.parse("ocips", f"//127.0.0.1:{server.port}/sandbox?ca={cert}")
        client = SocketChannel(trusted, url.Login(USER, PASSWORD), taps=[sent_documents])
        (answer,) = client.exchange([READ])
        assert answer.group_id == "acme"
        client.close()
        untrusted = url.parse("ocips", f"//127.0.0.1:{server.port}/sandbox")
        with pytest.raises(BackendError) as refused:
            SocketChannel(untrusted, url.Login(USER, PASSWORD)).exchange([READ])
        assert not isinstance(refused.value, TransientError)
        assert "the server's TLS certificate is not trusted" in said(refused)
        assert "add ?ca=FILE" in str(refused.value)


@pytest.fixture
def scripted() -> Iterator[tuple[int, list[list[Any]]]]:
    """A server that logs anyone in and answers each other document with the next
    answers of its script (the test fills it)."""
    listener = socket.create_server(("127.0.0.1", 0))
    script: list[Any] = []  # answers, or bytes to send as they are

    def serve() -> None:
        sock, _ = listener.accept()
        with sock, contextlib.suppress(OSError):
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
                documents, data = codec.split_documents(data)
                for document in documents:
                    request = codec.decode(document)
                    name = request.commands[0].type_
                    if name == "AuthenticationRequest":
                        answers = [
                            codec.response(
                                "AuthenticationResponse",
                                user_id=USER,
                                nonce="n",
                                password_algorithm="MD5",
                            )
                        ]
                    elif name == "LoginRequest22V5":
                        answers = [
                            codec.response(
                                "LoginResponse22V5",
                                login_type="User",
                                locale="en_US",
                                encoding="ISO-8859-1",
                                is_enterprise=True,
                                user_domain="x",
                            )
                        ]
                    else:
                        answers = script.pop(0)
                    if isinstance(answers, bytes):  # sent as it is
                        sock.sendall(answers)
                    else:
                        sock.sendall(codec.encode(request.session_id, answers))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], script
    listener.close()


EXPIRED = codec.Fault("[Error 4103] Not logged in", code=4103)


def test_a_session_that_expired_part_way_is_transient_and_not_resent(
    scripted: tuple[int, list[list[Any]]], sent_documents: DocumentTap
) -> None:
    port, script = scripted
    script.append([codec.success(), EXPIRED])  # the first went through
    with pytest.raises(TransientError, match="expired part way through a document"):
        channel(port, sent_documents).exchange([WRITE, WRITE])
    assert sent_documents.types() == [*LOGIN, "UserDeleteRequest", "UserDeleteRequest", *LOGIN]


def test_a_session_that_expires_again_at_once_is_transient(
    scripted: tuple[int, list[list[Any]]], sent_documents: DocumentTap
) -> None:
    port, script = scripted
    script.extend([[EXPIRED], [EXPIRED]])
    with pytest.raises(TransientError, match="the session expired again"):
        channel(port, sent_documents).exchange([WRITE])


def test_a_reply_for_another_session_or_with_missing_answers_is_transient(
    scripted: tuple[int, list[list[Any]]], sent_documents: DocumentTap
) -> None:
    port, script = scripted
    script.append([codec.success()])
    with pytest.raises(TransientError, match=r"no whole reply \(1 answers to 2 requests\)"):
        channel(port, sent_documents).exchange([WRITE, WRITE])


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (codec.encode("someone-else", [codec.success()]), "a reply for another session"),
        (codec.encode("x", [codec.success()]) * 2, "more than one reply"),
        (b"<BroadsoftDocument>" + b" " * 5000, "a reply larger than any answer"),
    ],
)
def test_a_reply_that_cannot_be_ours_is_transient(
    scripted: tuple[int, list[Any]], sent_documents: DocumentTap, reply: bytes, says: str
) -> None:
    port, script = scripted
    script.append(reply)
    client = channel(port, sent_documents)
    client.max_reply = 4096
    client._buffer.limit = 4096
    with pytest.raises(TransientError, match=f"no whole reply \\({says}\\)"):
        client.exchange([WRITE])


@pytest.mark.parametrize(
    ("request_", "answer", "says"),
    [
        (READ, codec.success(), "SuccessResponse in answer to GroupGetRequest22V5"),
        (READ, READ, "GroupGetRequest22V5 in answer to GroupGetRequest22V5"),  # an echo
        (WRITE, READ, "GroupGetRequest22V5 in answer to UserDeleteRequest"),
    ],
)
def test_an_answer_of_another_kind_is_no_answer(request_: Any, answer: Any, says: str) -> None:
    """A SuccessResponse where data was asked for (or an echo of the request) is read
    as a lost reply, never as the data: the backend would read attributes it lacks."""
    with pytest.raises(transport._LostReply, match=says):
        transport._check_kinds([request_], (answer,))
    transport._check_kinds([READ, WRITE], (codec.Fault("no"), codec.success()))  # fine


@pytest.fixture
def yes_server() -> Iterator[int]:
    """A server that answers every command, the login's too, with a SuccessResponse."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                sock, _ = listener.accept()
                with sock, contextlib.suppress(OSError):
                    data = b""
                    while chunk := sock.recv(65536):
                        documents, data = codec.split_documents(data + chunk)
                        for document in documents:
                            request = codec.decode(document)
                            answers = [codec.success() for _ in request.commands]
                            sock.sendall(codec.encode(request.session_id, answers))

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def test_a_server_that_says_yes_to_everything_is_one_line_without_a_traceback(
    onenet, workdir: Path, yes_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONENET_OCIP_USER", USER)
    monkeypatch.setenv("ONENET_OCIP_PASSWORD", PASSWORD)
    backend = f"ocip://127.0.0.1:{yes_server}/sandbox?timeout=2"
    for command in (["plan", str(EXAMPLE)], ["import", "--site", "berlin-hq"]):
        result = onenet(*command, "--backend", backend)
        assert result.code == 1, result.err
        assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
        assert "SuccessResponse in answer to AuthenticationRequest" in result.err


def test_tls_to_a_server_that_does_not_speak_it_fails_in_one_line(garbling_server: int) -> None:
    address = url.parse("ocips", f"//127.0.0.1:{garbling_server}/sandbox?timeout=2")
    with pytest.raises(BackendError, match="the TLS handshake failed") as failed:
        SocketChannel(address, url.Login(USER, PASSWORD)).exchange([READ])
    assert not isinstance(failed.value, TransientError)  # trying again will not help


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A server that accepts and then says nothing (a plain OCI-P port waits so)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(listener.accept()[0])

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for sock in held:
        sock.close()


def test_tls_to_a_port_that_never_answers_the_handshake_says_so_once(silent_server: int) -> None:
    address = url.parse("ocips", f"//127.0.0.1:{silent_server}/sandbox?timeout=0.5")
    with pytest.raises(BackendError, match=r"never answered the TLS handshake") as failed:
        SocketChannel(address, url.Login(USER, PASSWORD)).exchange([READ])
    assert not isinstance(failed.value, TransientError)  # no retries for two minutes
    assert f"is port {silent_server} a TLS port? Plain OCI-P is ocip://" in str(failed.value)


def test_a_tls_connection_the_server_closed_while_idle_is_replaced(
    tmp_path: Path, handlers: Handlers, certificate: tuple[Path, Path], sent_documents: DocumentTap
) -> None:
    cert, key = certificate
    tls = tls_context(str(cert), str(key))
    peer = make_peer(tmp_path, handlers)
    with running_server(peer, tls=tls, limits=Limits(idle_timeout=0.3)) as server:
        address = url.parse("ocips", f"//127.0.0.1:{server.port}/sandbox?ca={cert}")
        client = SocketChannel(address, url.Login(USER, PASSWORD), taps=[sent_documents])
        client.exchange([WRITE])
        client.exchange([WRITE])  # at once: the same connection
        time.sleep(0.6)
        client.exchange([WRITE])
        client.close()
    assert handlers.calls["write"] == 3
    assert sent_documents.types().count("LoginRequest22V5") == 2
