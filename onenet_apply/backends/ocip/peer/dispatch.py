"""Answering OCI-P documents: each command on its own, by the handler for its type.

Login requests go to the `Gate` (login.py); any other command of a connection
that has not logged in is answered "not logged in". A handler takes the peer's
context and the decoded request and returns the response (`codec.success()` for
a plain success); a `BackendError` it raises (a sandbox refusal) becomes an
`ErrorResponse` with the sandbox's message. `serve` is what the server calls: it
also injects the faults of the peer's `FaultPlan` (faults.py).
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass, field
from typing import Any

from onenet_apply.backends.base import BackendError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.channel import Tap
from onenet_apply.backends.ocip.peer import faults, groups, login, users
from onenet_apply.backends.ocip.peer.context import (
    NOT_LOGGED_IN,
    Handler,
    PeerContext,
    fault_for,
    peer_fault,
    unsupported,
)

INJECTED_WARNING = peer_fault(4999, "Injected by the peer: the request was carried out", "Warning")


@dataclass
class Tally:
    """What the peer has answered: documents (logins and undecodable ones included)
    and the commands in them, which a benchmark reads to count what went over the wire."""

    documents: int = 0
    requests: int = 0

    def describe(self) -> str:
        return f"served {self.documents} documents, {self.requests} requests"


def handlers() -> dict[str, Handler]:
    return {**users.HANDLERS, **groups.HANDLERS}


@dataclass
class Peer:
    context: PeerContext
    handlers: dict[str, Handler] = field(default_factory=handlers)
    gate: login.Gate = field(default_factory=login.Gate)
    faults: faults.FaultPlan = field(default_factory=faults.FaultPlan)
    taps: list[Tap] = field(default_factory=list)  # see every request document
    served: Tally = field(default_factory=Tally)

    def trust(self, connection: str) -> None:
        """Treat `connection` as logged in (in-process tests that skip the login)."""
        self.gate.trust(connection)

    def disconnect(self, connection: str) -> None:
        self.gate.forget(connection)

    def answer(self, connection: str, document: bytes) -> bytes:
        """The response document to one request document."""
        reply = self._reply(connection, document, frozenset())
        assert reply is not None
        return reply

    def serve(self, connection: str, document: bytes) -> bytes | None:
        """`answer`, with the faults the plan injects: None means close the
        connection without answering."""
        return self._reply(connection, document, None)

    def _reply(
        self, connection: str, document: bytes, fired: frozenset[str] | None
    ) -> bytes | None:
        for tap in self.taps:
            tap(document)
        self.served.documents += 1
        try:
            request = codec.decode(document)
        except codec.CodecError as e:
            return codec.encode("", [peer_fault(4001, str(e))])
        self.served.requests += len(request.commands)
        if fired is None:
            work = any(c.type_ not in login.REQUESTS for c in request.commands)
            fired = self.faults.next() if work else frozenset()
        if faults.EXPIRE in fired:
            self.gate.forget(connection)
        answers = [self.answer_one(connection, command) for command in request.commands]
        answers = users.end_document(self.context, answers)  # what waited for the whole
        if faults.WARNING in fired and faults.EXPIRE not in fired and answers:
            answers[0] = INJECTED_WARNING
        if faults.DROP in fired:
            return None
        return codec.encode(request.session_id, answers)

    def answer_one(self, connection: str, command: Any) -> Any:
        if command.type_ in login.REQUESTS:
            return self.gate.answer(connection, command)
        if not self.gate.admits(connection):
            return NOT_LOGGED_IN
        handler = self.handlers.get(command.type_)
        if handler is None:
            return unsupported(command.type_)
        try:
            return handler(self.context, command)
        except BackendError as e:
            return fault_for(e)
        except Exception as e:  # a bug in a handler: say where, never what it held
            return internal_error(command.type_, e)


def internal_error(name: str, error: Exception) -> codec.Fault:
    """A handler's bug as an answer, and one line on stderr naming the type and
    place of the error (never its message: it could quote a password)."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    where = f"{type(error).__name__} at {frame.filename}:{frame.lineno}"
    print(f"onenet OCI-P peer: {name} failed: {where}", file=sys.stderr)
    return peer_fault(5000, f"The peer failed on {name} ({type(error).__name__})")
