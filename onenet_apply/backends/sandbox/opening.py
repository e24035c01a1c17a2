"""Opening a sandbox by URL: the factory the backend registry calls."""

from __future__ import annotations

from onenet_apply.backends import DEFAULT_SANDBOX
from onenet_apply.backends.sandbox.backend import SandboxBackend


def open_url(location: str, *, create: bool) -> SandboxBackend:
    """The sandbox at `sandbox:PATH` (or `sandbox://PATH`); the registry's factory."""
    return SandboxBackend(location.removeprefix("//") or str(DEFAULT_SANDBOX), create=create)


open_url.usage = "sandbox:PATH, e.g. sandbox:.onenet/sandbox.db"  # type: ignore[attr-defined]
