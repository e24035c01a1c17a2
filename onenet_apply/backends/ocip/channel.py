"""How OCI-P documents travel: a `Channel` sends one document of commands and
returns the answers, in order.

`SocketChannel` (transport.py) speaks to a server over TCP or TLS;
`LoopbackChannel` hands the encoded bytes straight to an in-process peer, so
tests exercise the whole codec, and every document a test sends can be checked
against the R25 schema (`taps`), without sockets.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from onenet_apply.backends.ocip import codec


class Channel(Protocol):
    def exchange(self, commands: Sequence[Any]) -> list[codec.Answer]:
        """Send `commands` as one document; their answers in order. A lost or
        garbled reply raises TransientError: the server may have carried them out."""
        ...

    def close(self) -> None: ...


Tap = Callable[[bytes], None]
"""Sees every request document a channel sends (tests validate them)."""


@dataclass
class LoopbackChannel:
    """A channel to a peer in the same process: `answer` takes a request document
    and returns the response document, as a server would on the wire."""

    answer: Callable[[str, bytes], bytes]  # (connection id, document) -> document
    taps: list[Tap] = field(default_factory=list)
    session_id: str = "loopback-0"
    connection: str = field(default_factory=lambda: f"loopback-{next(_connections)}")

    def exchange(self, commands: Sequence[Any]) -> list[codec.Answer]:
        document = codec.encode(self.session_id, commands)
        for tap in self.taps:
            tap(document)
        answers = list(codec.decode(self.answer(self.connection, document)).commands)
        if len(answers) != len(commands):
            raise codec.CodecError(f"{len(commands)} commands sent, {len(answers)} answers")
        return answers

    def close(self) -> None:
        """Nothing to let go of."""


_connections = itertools.count(1)
