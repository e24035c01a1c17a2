"""The loopback peer on the network: `onenet sandbox serve-ocip`.

A threaded TCP server (TLS with a certificate and key): one thread and one
session per connection, each document answered by the `Peer` while holding one
lock, because the sandbox behind it is one SQLite file. Whoever connects is
not trusted: a document may be at most `max_document` bytes, a connection that
says nothing for `idle_timeout` seconds is closed, at most `max_connections`
are served at once, and a document that is not OCI-P is answered with an
ErrorResponse.
"""

from __future__ import annotations

import itertools
import signal
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.peer.context import peer_fault
from onenet_apply.backends.ocip.peer.dispatch import Peer, Tally
from onenet_apply.backends.ocip.transport import DocumentBuffer


@dataclass(frozen=True, slots=True)
class Limits:
    max_document: int = 8 * 1024 * 1024
    idle_timeout: float = 600.0
    handshake_timeout: float = 10.0
    max_connections: int = 64


class PeerServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        peer: Peer,
        tls: ssl.SSLContext | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Connection)
        self.peer = peer
        self.tls = tls
        self.limits = limits or Limits()
        self.lock = threading.Lock()  # the sandbox is one SQLite file
        self.stopped = False
        self.connections = 0
        self._ids = itertools.count(1)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection's failure ends that connection only, quietly."""

    def stop(self) -> None:
        """No more documents are answered; the sandbox can be closed."""
        with self.lock:
            self.stopped = True

    def next_id(self, client: tuple[str, int]) -> str:
        return f"{client[0]}:{client[1]}#{next(self._ids)}"


class _Connection(socketserver.BaseRequestHandler):
    server: PeerServer

    def handle(self) -> None:
        server, limits = self.server, self.server.limits
        with server.lock:
            server.connections += 1
            admitted = server.connections <= limits.max_connections
        try:
            if admitted:
                self._serve(self.request)
        finally:
            with server.lock:
                server.connections -= 1

    def _serve(self, sock: socket.socket) -> None:
        server, limits = self.server, self.server.limits
        if server.tls is not None:
            sock.settimeout(limits.handshake_timeout)
            try:
                sock = server.tls.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError):
                return
        sock.settimeout(limits.idle_timeout)
        connection = server.next_id(self.client_address)
        buffer = DocumentBuffer(limits.max_document)
        try:
            while self._answer_all(sock, connection, buffer):
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer.feed(chunk)
        except OSError:
            return
        finally:
            with server.lock:
                server.peer.disconnect(connection)
            sock.close()

    def _answer_all(self, sock: socket.socket, connection: str, buffer: DocumentBuffer) -> bool:
        """Answer the documents received whole; False to close the connection."""
        server = self.server
        for document in buffer.take():
            with server.lock:
                if server.stopped:
                    return False
                reply = server.peer.serve(connection, document)
            if reply is None:  # an injected fault: the document was carried out
                return False
            sock.sendall(reply)
        if buffer.overflowing:
            too_large = peer_fault(4002, f"A document is at most {buffer.limit} bytes")
            sock.sendall(codec.encode("", [too_large]))
            return False
        return True


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class _Stop(Exception):
    """SIGTERM or SIGINT: stop serving."""


def _stop(signum: int, frame: Any) -> None:
    raise _Stop


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except _Stop:
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def serve_until_stopped(server: PeerServer, announce: Callable[[str], None]) -> None:
    """Announce the address, serve until SIGTERM or SIGINT, then stop answering."""
    host = server.server_address[0]
    try:
        with _stopped_by_signals():
            announce(f"listening on {f'[{host}]' if ':' in host else host}:{server.port}")
            server.serve_forever(poll_interval=0.2)
    finally:
        server.stop()
        server.server_close()


@dataclass(frozen=True, slots=True)
class Listen:
    host: str
    port: int


def parse_listen(text: str) -> Listen:
    """`HOST:PORT` (`[::1]:PORT` for IPv6); port 0 picks a free one."""
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(
            f"--listen {text!r}: write HOST:PORT, e.g. 127.0.0.1:2208 (0 picks a port)"
        )
    return Listen(host, int(port))


def serve_sandbox(
    sandbox: Any,
    listen: Listen,
    *,
    enterprise: str,
    account: Any,
    tls: ssl.SSLContext | None,
    fault_plan: str,
    announce: Callable[[str], None],
) -> Tally:
    """Serve the sandbox's sites as groups of `enterprise` until stopped; what was served."""
    from onenet_apply.backends.ocip.peer import faults, login
    from onenet_apply.backends.ocip.peer.context import PeerContext

    peer = Peer(
        PeerContext(sandbox, enterprise),
        gate=login.Gate(account, enterprise),
        faults=faults.FaultPlan.parse(fault_plan),
    )
    server = PeerServer((listen.host, listen.port), peer, tls)
    serve_until_stopped(server, announce)
    return peer.served
