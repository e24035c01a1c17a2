"""OCI-P over TCP or TLS: a `SocketChannel` sends one document, reads one back.

A document ends with `</BroadsoftDocument>`. The channel connects and logs in on
first use (`AuthenticationRequest` for the nonce, then `LoginRequest22V5`, whose
password goes in the clear: url.py allows that only over TLS or loopback), and
logs out on close. What the network does to it:

- a reply lost (connection dropped, timeout) or garbled: the server may have
  carried the document out, so `TransientError` (the applier re-reads the site),
  except for a document of reads only, which is sent once more on a new connection;
- the session expired (every answer "not logged in": nothing was done): log in
  again and send the document once more; a document only partly answered so is
  a `TransientError`;
- a connection the server closed while idle is noticed before sending, and
  replaced, so nothing is lost;
- `?rate=N`: documents are spaced so that no more than N requests go per second.

No message names a request's content: a request may carry a password.
"""

from __future__ import annotations

import re
import secrets
import select
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from onenet_apply.backends.base import BackendError, TransientError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.channel import Tap
from onenet_apply.backends.ocip.url import Address, Login

MAX_REPLY = 512 * 1024 * 1024  # a garbled stream must not fill the memory
CHUNK = 256 * 1024
NOT_LOGGED_IN_CODE = 4103
_READ_ONLY = re.compile(r"(?:^|[a-z])Get(?:[A-Z]|Request)")


class LoginRefused(BackendError):
    """The server refused the login: wrong name or password, or a locked account."""


class Unreachable(TransientError):
    """No connection could be made; nothing was sent."""


class _LostReply(Exception):
    """The reply did not arrive whole (the reason, never the content)."""


def is_not_logged_in(answer: Any) -> bool:
    """The answer a server gives a command of a session it does not know (any more)."""
    return isinstance(answer, codec.Fault) and (
        answer.code == NOT_LOGGED_IN_CODE or "not logged in" in answer.summary.lower()
    )


def is_read_only(commands: Sequence[Any]) -> bool:
    """Every command only reads (`...GetRequest...`): safe to send twice."""
    return all(_READ_ONLY.search(command.type_) for command in commands)


def tls_context(ca: str | None) -> ssl.SSLContext:
    """Certificates verified against `ca` if given, else the system's authorities."""
    context = ssl.create_default_context(cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@dataclass
class DocumentBuffer:
    """Bytes off the wire cut into documents, each ending `</BroadsoftDocument>`;
    each byte is searched once, so a large document costs no more than its size."""

    limit: int  # bytes of an unfinished document before the stream counts as garbage
    data: bytearray = field(default_factory=bytearray)
    _searched: int = 0

    def feed(self, chunk: bytes) -> None:
        self.data += chunk

    def take(self) -> list[bytes]:
        """The documents received whole, in order; what follows stays."""
        if self.data.find(codec.END_OF_DOCUMENT, self._searched) < 0:
            self._searched = max(0, len(self.data) - len(codec.END_OF_DOCUMENT) + 1)
            return []
        documents, rest = codec.split_documents(bytes(self.data))
        self.data = bytearray(rest)
        self._searched = 0
        return documents

    @property
    def overflowing(self) -> bool:
        return len(self.data) > self.limit

    def clear(self) -> None:
        self.data.clear()
        self._searched = 0


@dataclass
class SocketChannel:
    address: Address
    login: Login
    taps: list[Tap] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    max_reply: int = MAX_REPLY
    _socket: socket.socket | None = field(default=None, init=False, repr=False)
    _buffer: DocumentBuffer = field(init=False, repr=False)
    _session: str = field(default="", init=False, repr=False)
    _next_send: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._buffer = DocumentBuffer(self.max_reply)

    def exchange(self, commands: Sequence[Any]) -> list[codec.Answer]:
        commands = list(commands)
        if self._socket is not None and self._closed_by_server():
            self._drop()
        if self._socket is None:
            self._open()
        try:
            answers = self._round_trip(commands)
        except TransientError:
            if not is_read_only(commands):
                raise
            self._open()  # a read changes nothing: ask again on a new connection
            answers = self._round_trip(commands)
        expired = [is_not_logged_in(a) for a in answers]
        if any(expired):
            self._log_in()  # the server forgot the session
            if not all(expired):
                raise TransientError(
                    f"{self.address.describe()}: the session expired part way through a "
                    "document; re-reading the site"
                )
            answers = self._round_trip(commands)  # nothing was done: send it again
            if any(is_not_logged_in(a) for a in answers):
                raise TransientError(f"{self.address.describe()}: the session expired again")
        return answers

    def close(self) -> None:
        """Log out (best effort: the connection may be gone) and let go of it."""
        if self._socket is None:
            return
        try:
            if not self._closed_by_server():
                logout = codec.request(
                    "LogoutRequest", user_id=self.login.user, reason="Client Logout"
                )
                document = codec.encode(self._session, [logout])
                for tap in self.taps:
                    tap(document)
                self._socket.sendall(document)
        except OSError:
            pass
        self._drop()

    # -- the connection and the session
    def _open(self) -> None:
        self._drop()
        self._socket = self._connect()
        self._session = f"onenet-{secrets.token_hex(12)}"
        self._log_in()

    def _connect(self) -> socket.socket:
        where = self.address.describe()
        try:
            raw = socket.create_connection(
                (self.address.host, self.address.port), timeout=self.address.timeout
            )
        except OSError as e:
            raise Unreachable(f"cannot connect to {where}: {_reason(e)}") from None
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self.address.tls:
            return raw
        try:
            return tls_context(self.address.ca).wrap_socket(raw, server_hostname=self.address.host)
        except ssl.SSLCertVerificationError as e:
            raw.close()
            raise BackendError(
                f"{where}: the server's TLS certificate is not trusted ({e.verify_message}); "
                "for a private certificate authority add ?ca=FILE"
            ) from None
        except ssl.SSLError as e:
            raw.close()
            raise BackendError(f"{where}: the TLS handshake failed ({e.reason})") from None
        except TimeoutError:  # connected, and then nothing: not TLS there
            raw.close()
            raise BackendError(
                f"{where}: the server accepted the connection but never answered the TLS "
                f"handshake ({self.address.timeout:g} s): is port {self.address.port} a TLS "
                "port? Plain OCI-P is ocip:// (port 2208)"
            ) from None
        except OSError as e:
            raw.close()
            raise Unreachable(f"cannot connect to {where}: {_reason(e)}") from None

    def _log_in(self) -> None:
        """`AuthenticationRequest` (the server's nonce), then `LoginRequest22V5`."""
        user = self.login.user
        for command in (
            codec.request("AuthenticationRequest", user_id=user),
            codec.request("LoginRequest22V5", user_id=user, password=self.login.password),
        ):
            (answer,) = self._round_trip([command])
            if isinstance(answer, codec.Fault):
                self._drop()
                raise LoginRefused(
                    f"{self.address.describe()} refused the login of {user}: {answer.describe()}"
                )

    def _drop(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None
        self._buffer.clear()

    def _closed_by_server(self) -> bool:
        """Whether the server hung up (or spoke unasked) while the connection was
        idle. Anything to read counts: at worst (a TLS record without data) a new
        connection is made that was not needed, and nothing is lost."""
        assert self._socket is not None
        if self._buffer.data:
            return True
        try:
            readable, _, _ = select.select([self._socket], [], [], 0)
        except (OSError, ValueError):  # closed under us
            return True
        return bool(readable)

    # -- one document there, one back
    def _round_trip(self, commands: list[Any]) -> list[codec.Answer]:
        assert self._socket is not None
        document = codec.encode(self._session, commands)
        for tap in self.taps:
            tap(document)
        self._pace(len(commands))
        try:
            self._socket.sendall(document)
            reply = codec.decode(self._read_document())
            if reply.session_id != self._session:
                raise _LostReply("a reply for another session")
            if len(reply.commands) != len(commands):
                raise _LostReply(f"{len(reply.commands)} answers to {len(commands)} requests")
            _check_kinds(commands, reply.commands)
        except (OSError, _LostReply, codec.CodecError) as e:
            self._drop()
            what = "a reply that is not OCI-P" if isinstance(e, codec.CodecError) else _reason(e)
            raise TransientError(
                f"{self.address.describe()}: no whole reply ({what}); the server may have "
                "carried the request out, re-reading the site"
            ) from None
        return list(reply.commands)

    def _read_document(self) -> bytes:
        assert self._socket is not None
        while True:
            documents = self._buffer.take()
            if documents:
                if len(documents) > 1 or self._buffer.data.strip():
                    raise _LostReply("more than one reply")
                self._buffer.clear()
                return documents[0]
            if self._buffer.overflowing:
                raise _LostReply("a reply larger than any answer")
            chunk = self._socket.recv(CHUNK)
            if not chunk:
                raise _LostReply("the server closed the connection")
            self._buffer.feed(chunk)

    def _pace(self, requests: int) -> None:
        """Hold back so that at most `rate` requests leave per second."""
        if self.address.rate is None:
            return
        now = self.clock()
        if self._next_send > now:
            self.sleep(self._next_send - now)
        self._next_send = max(now, self._next_send) + requests / self.address.rate


def _check_kinds(commands: list[Any], answers: tuple[Any, ...]) -> None:
    """Each answer is the response its request is answered with, or an error: any
    other (a SuccessResponse to a Get, an echo) is no answer to it."""
    for command, answer in zip(commands, answers, strict=True):
        kind = type(answer).__name__
        if not isinstance(answer, codec.Fault) and kind != codec.response_name(command.type_):
            raise _LostReply(f"{kind} in answer to {command.type_}")


def _reason(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
