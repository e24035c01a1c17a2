"""What every peer handler is given, and how a refusal goes back on the wire."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from onenet_apply.backends.base import BackendError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.sandbox.backend import SandboxBackend


@dataclass
class PeerContext:
    sandbox: SandboxBackend
    enterprise: str
    # what the handlers of one document share until it ends (a user created in parts)
    document: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[PeerContext, Any], Any]


def peer_fault(code: int, text: str, kind: str = "Error") -> codec.Fault:
    """An ErrorResponse as BroadWorks words them: `[Error CODE] text`."""
    summary = f"[{kind} {code}] {text}"
    return codec.Fault(summary, summary, code, None, kind)


NOT_LOGGED_IN = peer_fault(4103, "Not logged in")


def unsupported(name: str) -> codec.Fault:
    return peer_fault(4000, f"{name} is not served by the onenet sandbox peer")


def fault_for(error: BackendError) -> codec.Fault:
    """A sandbox refusal as the server's ErrorResponse (the rule stays in the text)."""
    return peer_fault(4500, str(error))
