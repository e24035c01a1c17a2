"""The peer's group requests: hunt groups, call centres, pickup and park groups."""

from __future__ import annotations

from onenet_apply.backends.ocip.peer.context import Handler

HANDLERS: dict[str, Handler] = {}
