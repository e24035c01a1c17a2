"""The loopback peer on a real socket: each connection logs in on its own (the
nonce and LoginRequest22V5, or LoginRequest14sp4's signed password), nothing is
answered before, hostile input is bounded, faults are injected as planned, and
`onenet sandbox serve-ocip` announces its port and stops quietly on SIGTERM."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from onenet_apply.backends.ocip import codec, url
from onenet_apply.backends.ocip.peer import faults, login
from onenet_apply.backends.ocip.peer.context import PeerContext
from onenet_apply.backends.ocip.peer.dispatch import Peer
from onenet_apply.backends.ocip.peer.server import Limits
from onenet_apply.backends.ocip.transport import SocketChannel
from onenet_apply.backends.sandbox import SandboxBackend
from tests.ocip_kit import (
    PASSWORD,
    USER,
    DocumentTap,
    running_server,
    schema_errors,
    self_signed,
)

VERSION = codec.request("SystemSoftwareVersionGetRequest")


def answer_version(ctx: PeerContext, request: Any) -> Any:
    return codec.response("SystemSoftwareVersionGetResponse", version="onenet")


@pytest.fixture
def peer(tmp_path: Path) -> Peer:
    return Peer(
        PeerContext(SandboxBackend(str(tmp_path / "s.db"), create=True), "sandbox"),
        handlers={"SystemSoftwareVersionGetRequest": answer_version},
        gate=login.Gate(url.Login(USER, PASSWORD), "sandbox"),
    )


class Raw:
    """A bare connection: documents out, documents in, nothing checked."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=3)
        self.session = "raw-1"

    def send(self, *commands: Any) -> list[Any]:
        self.sock.sendall(codec.encode(self.session, commands))
        return list(codec.decode(self.read()).commands)

    def read(self) -> bytes:
        data = b""
        while codec.END_OF_DOCUMENT not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def closed(self) -> bool:
        """Whether the server closes the connection (within the 3 s timeout)."""
        try:
            return self.sock.recv(1) == b""
        except TimeoutError:
            return False
        except OSError:
            return True


def test_nothing_is_answered_before_login_and_each_connection_logs_in_alone(peer: Peer) -> None:
    with running_server(peer) as server:
        first, second = Raw(server.port), Raw(server.port)
        (refused,) = first.send(VERSION)
        assert refused.code == 4103
        (nonce,) = first.send(codec.request("AuthenticationRequest", user_id=USER))
        (ok,) = first.send(codec.request("LoginRequest22V5", user_id=USER, password=PASSWORD))
        assert type(ok).__name__ == "LoginResponse22V5" and len(nonce.nonce) == 32
        assert first.send(VERSION)[0].version == "onenet"
        assert second.send(VERSION)[0].code == 4103  # another connection is not logged in
        (other,) = second.send(codec.request("AuthenticationRequest", user_id=USER))
        assert other.nonce != nonce.nonce  # a fresh nonce per connection


def test_the_older_login_signs_the_password_with_the_nonce(peer: Peer) -> None:
    with running_server(peer) as server:
        raw = Raw(server.port)
        unsigned = codec.request("LoginRequest14sp4", user_id=USER, signed_password="0" * 32)
        assert raw.send(unsigned)[0].code == 4961  # no nonce asked for yet
        (nonce,) = raw.send(codec.request("AuthenticationRequest", user_id=USER))
        wrong = login.signed(nonce.nonce, "not it")
        assert (
            raw.send(codec.request("LoginRequest14sp4", user_id=USER, signed_password=wrong))[
                0
            ].code
            == 4962
        )
        (nonce,) = raw.send(codec.request("AuthenticationRequest", user_id=USER))
        right = login.signed(nonce.nonce, PASSWORD)
        (ok,) = raw.send(codec.request("LoginRequest14sp4", user_id=USER, signed_password=right))
        assert type(ok).__name__ == "LoginResponse14sp4"
        assert raw.send(VERSION)[0].version == "onenet"


def test_the_signature_is_what_broadworks_computes() -> None:
    """md5 over `nonce:sha1-hex(password)`, in hex, as broadworks-ocip's client signs."""
    inner = hashlib.sha1(b"secret").hexdigest()
    assert login.signed("1234", "secret") == hashlib.md5(f"1234:{inner}".encode()).hexdigest()


def test_garbage_is_answered_with_an_error_and_the_connection_goes_on(peer: Peer) -> None:
    with running_server(peer) as server:
        raw = Raw(server.port)
        raw.sock.sendall(b"hello</BroadsoftDocument>")
        (error,) = codec.decode(raw.read()).commands
        assert error.code == 4001 and "not an XML document" in error.summary
        assert raw.send(VERSION)[0].code == 4103  # still served


def test_an_endless_document_is_cut_off(peer: Peer) -> None:
    with running_server(peer, limits=Limits(max_document=10_000)) as server:
        raw = Raw(server.port)
        raw.sock.sendall(b"<BroadsoftDocument>" + b"x" * 20_000)
        (error,) = codec.decode(raw.read()).commands
        assert error.code == 4002 and "at most 10000 bytes" in error.summary
        assert raw.closed()


def test_a_silent_connection_is_closed(peer: Peer) -> None:
    with running_server(peer, limits=Limits(idle_timeout=0.2)) as server:
        assert Raw(server.port).closed()


def test_connections_beyond_the_limit_are_closed(peer: Peer) -> None:
    with running_server(peer, limits=Limits(max_connections=1)) as server:
        first = Raw(server.port)
        assert first.send(VERSION)[0].code == 4103
        assert Raw(server.port).closed()
        assert first.send(VERSION)[0].code == 4103


def test_a_bug_in_a_handler_is_an_error_answer_naming_no_value(
    peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(ctx: PeerContext, request: Any) -> Any:
        raise KeyError(PASSWORD)

    peer.handlers["SystemSoftwareVersionGetRequest"] = broken
    peer.trust("c")
    (error,) = codec.decode(peer.answer("c", codec.encode("s", [VERSION]))).commands
    assert error.code == 5000 and "(KeyError)" in error.summary
    err = capsys.readouterr().err
    assert "SystemSoftwareVersionGetRequest failed: KeyError at" in err
    assert PASSWORD not in err + error.summary


def test_fault_plans_are_read_or_refused_clearly() -> None:
    plan = faults.FaultPlan.parse("drop-after-commit:every=3, warning:once,expire-session:at=2")
    assert [sorted(plan.next()) for _ in range(6)] == [
        ["warning"],
        ["expire-session"],
        ["drop-after-commit"],
        [],
        [],
        ["drop-after-commit"],
    ]
    assert faults.FaultPlan.parse("warning").next() == {"warning"}
    for bad, says in (("explode", "the kinds are"), ("warning:every=0", "warning:every=N")):
        with pytest.raises(faults.FaultSpecError, match=says):
            faults.FaultPlan.parse(bad)


def test_the_schema_check_rejects_what_the_xsd_rejects() -> None:
    """The kit's check is real: a login passes, a command with xsi:nil (what
    broadworks-ocip writes for an empty list) does not."""
    good = codec.encode("s", [codec.request("LoginRequest22V5", user_id=USER, password="x")])
    assert schema_errors(good) == []
    bad = good.replace(b"<userId>", b"<userName>").replace(b"</userId>", b"</userName>")
    assert schema_errors(bad)


# -- the command line
def serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "ONENET_OCIP_USER": USER, "ONENET_OCIP_PASSWORD": PASSWORD}
    environment.pop("ONENET_OCIP_PEER_FAULTS", None)
    environment.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "onenet_apply", "sandbox", "serve-ocip", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environment,
    )


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    """The output of a serve-ocip expected to stop (by itself, or as signalled);
    killed if it does not, so no test leaves one running."""
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def test_serve_ocip_announces_its_port_serves_and_stops_quietly_on_sigterm(
    tmp_path: Path, sent_documents: DocumentTap
) -> None:
    process = serve(tmp_path, "--backend", "sandbox:s.db", "--listen", "127.0.0.1:0")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:") and not line.endswith(":0\n")
        port = int(line.strip().rpartition(":")[2])
        address = url.parse("ocip", f"//127.0.0.1:{port}/sandbox")
        client = SocketChannel(address, url.Login(USER, PASSWORD), taps=[sent_documents])
        (answer,) = client.exchange([VERSION])  # logged in; the peer does not serve this one
        assert answer.code == 4000 and "not served" in answer.summary
        client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = finish(process)
    assert process.returncode == 0
    assert (out, err) == ("", "")  # nothing after the one line
    assert (tmp_path / "s.db").exists()  # an empty sandbox is created


def test_serve_ocip_over_tls_with_faults_from_the_environment(
    tmp_path: Path, sent_documents: DocumentTap
) -> None:
    cert, key = self_signed(tmp_path)
    tls = ("--tls-cert", str(cert), "--tls-key", str(key))
    faults_from_env = {"ONENET_OCIP_PEER_FAULTS": "expire-session:once"}
    process = serve(
        tmp_path, "--listen", "127.0.0.1:0", "--enterprise", "ent", *tls, env=faults_from_env
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip().rpartition(":")[2])
        address = url.parse("ocips", f"//127.0.0.1:{port}/ent?ca={cert}")
        client = SocketChannel(address, url.Login(USER, PASSWORD), taps=[sent_documents])
        (answer,) = client.exchange([VERSION])  # the session expired first: logged in again
        assert answer.code == 4000
        assert sent_documents.types().count("LoginRequest22V5") == 2
        client.close()
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C stops it as quietly
        out, err = finish(process)
    assert (process.returncode, out, err) == (0, "", "")


def test_serve_ocip_on_a_port_in_use_or_with_an_unreadable_key_is_one_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "c.pem").write_text("not a certificate")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        for args, says in (
            (("--listen", f"127.0.0.1:{port}"), f"cannot listen on 127.0.0.1:{port}: "),
            (("--tls-cert", "c.pem", "--tls-key", "c.pem"), "--tls-cert/--tls-key: cannot load"),
        ):
            process = serve(tmp_path, *args)
            out, err = finish(process)
            assert process.returncode == 1 and out == ""
            assert len(err.strip().splitlines()) == 1 and says in err, err


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        ((), {"ONENET_OCIP_PASSWORD": ""}, "set ONENET_OCIP_PASSWORD in the environment"),
        (("--tls-cert", "c.pem"), {}, "give both --tls-cert and --tls-key"),
        (("--listen", "0.0.0.0:0"), {}, "plain OCI-P carries the password in the clear"),
        (("--listen", "nowhere"), {}, "write HOST:PORT"),
        (("--faults", "explode"), {}, "the kinds are"),
        ((), {"ONENET_OCIP_PEER_FAULTS": "warning:at=x"}, "warning:at=N"),
    ],
)
def test_serve_ocip_refuses_in_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], says: str
) -> None:
    process = serve(tmp_path, "--listen", "127.0.0.1:0", *args, env=env)
    out, err = finish(process)
    assert process.returncode == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert PASSWORD not in err


def test_plan_over_ocip_through_the_command_line_and_a_wrong_password_refused(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole path: `onenet plan --backend ocip://...` logs in to the peer and
    reads the (new, empty) site; a wrong password is one line, shown nowhere."""
    from tests.conftest import EXAMPLE

    served = Peer(
        PeerContext(SandboxBackend(str(workdir / "peer.db"), create=True), "sandbox"),
        gate=login.Gate(url.Login(USER, PASSWORD), "sandbox"),
    )
    monkeypatch.setenv(url.USER_VARIABLE, USER)
    with running_server(served) as server:
        backend = f"ocip://127.0.0.1:{server.port}/sandbox"
        monkeypatch.setenv(url.PASSWORD_VARIABLE, PASSWORD)
        planned = onenet("plan", str(EXAMPLE), "--backend", backend)
        assert planned.code == 0, planned.err
        assert "+ user/anna create" in planned.out
        monkeypatch.setenv(url.PASSWORD_VARIABLE, "Not-the-password-1")
        refused = onenet("plan", str(EXAMPLE), "--backend", backend)
    assert refused.code == 1
    assert refused.err.strip().splitlines() == [
        f"Error: {backend} refused the login of {USER}: "
        "[Error 4962] Invalid user id or password [OCI-P error 4962]"
    ]
    for result in (planned, refused):
        assert PASSWORD not in result.out + result.err
        assert "Not-the-password-1" not in result.out + result.err


def test_connections_are_served_at_once_but_documents_one_at_a_time(peer: Peer) -> None:
    """Each connection has its own thread and session; the sandbox behind them
    sees one document at a time."""
    inside: list[int] = []
    overlaps: list[int] = []
    answered: list[str] = []

    def one_at_a_time(ctx: PeerContext, request: Any) -> Any:
        inside.append(1)
        if len(inside) > 1:
            overlaps.append(len(inside))
        time.sleep(0.002)
        inside.pop()
        return answer_version(ctx, request)

    peer.handlers["SystemSoftwareVersionGetRequest"] = one_at_a_time
    with running_server(peer) as server:

        def client() -> None:
            address = url.parse("ocip", f"//127.0.0.1:{server.port}/sandbox")
            channel = SocketChannel(address, url.Login(USER, PASSWORD))
            for _ in range(30):
                answered.append(channel.exchange([VERSION])[0].version)
            channel.close()

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answered == ["onenet"] * 120 and overlaps == []


def test_serve_ocip_stats_counts_the_documents_and_requests_it_answered(
    tmp_path: Path, sent_documents: DocumentTap
) -> None:
    """`--stats` (what the OCI-P benchmark reads) adds one line on stderr when the
    peer stops: every document answered, logins included, and the commands in them."""
    process = serve(tmp_path, "--backend", "sandbox:s.db", "--listen", "127.0.0.1:0", "--stats")
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip().rpartition(":")[2])
        address = url.parse("ocip", f"//127.0.0.1:{port}/sandbox")
        client = SocketChannel(address, url.Login(USER, PASSWORD), taps=[sent_documents])
        client.exchange([VERSION, VERSION])  # after the nonce and the login
        client.exchange([VERSION])  # answered, so counted: the logout would race the stop
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = finish(process)
    client.close()
    assert (process.returncode, out) == (0, "")
    assert err == "served 4 documents, 5 requests\n"
