"""Answering OCI-P documents: each command on its own, by the handler for its type.

A handler takes the peer's context and the decoded request and returns the
response (`codec.success()` for a plain success); a `BackendError` it raises
(a sandbox refusal) becomes an `ErrorResponse` with the sandbox's message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onenet_apply.backends.base import BackendError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.peer import groups, users
from onenet_apply.backends.ocip.peer.context import (
    NOT_LOGGED_IN,
    Handler,
    PeerContext,
    fault_for,
    peer_fault,
    unsupported,
)


def handlers() -> dict[str, Handler]:
    return {**users.HANDLERS, **groups.HANDLERS}


@dataclass
class Peer:
    context: PeerContext
    handlers: dict[str, Handler] = field(default_factory=handlers)
    logged_in: set[str] = field(default_factory=set)  # connection ids

    def trust(self, connection: str) -> None:
        """Treat `connection` as logged in (in-process tests that skip the login)."""
        self.logged_in.add(connection)

    def answer(self, connection: str, document: bytes) -> bytes:
        """The response document to one request document."""
        try:
            request = codec.decode(document)
        except codec.CodecError as e:
            return codec.encode("", [peer_fault(4001, str(e))])
        answers = [self.answer_one(connection, command) for command in request.commands]
        answers = users.end_document(self.context, answers)  # what waited for the whole
        return codec.encode(request.session_id, answers)

    def answer_one(self, connection: str, command: Any) -> Any:
        if connection not in self.logged_in:
            return NOT_LOGGED_IN
        handler = self.handlers.get(command.type_)
        if handler is None:
            return unsupported(command.type_)
        try:
            return handler(self.context, command)
        except BackendError as e:
            return fault_for(e)
