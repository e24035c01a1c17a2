"""The peer's user requests: BroadWorks users, devices and services on the sandbox."""

from __future__ import annotations

from onenet_apply.backends.ocip.peer.context import Handler

HANDLERS: dict[str, Handler] = {}
