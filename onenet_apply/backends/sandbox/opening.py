"""Opening a sandbox by URL: the factory the backend registry calls."""

from __future__ import annotations

from onenet_apply.backends import DEFAULT_SANDBOX
from onenet_apply.backends.errors import BackendError
from onenet_apply.backends.sandbox.backend import SandboxBackend


def open_url(location: str, *, create: bool) -> SandboxBackend:
    """The sandbox at `sandbox:PATH` (or `sandbox://PATH`); the registry's factory."""
    path = location.removeprefix("//")
    if "@" in path.partition("/")[0]:  # USER[:PASSWORD]@HOST: never shown
        raise BackendError(
            "sandbox:...: the sandbox is a file on this machine (sandbox:PATH); a login "
            "(USER:PASSWORD@HOST) means nothing here"
        )
    return SandboxBackend(path or str(DEFAULT_SANDBOX), create=create)


open_url.usage = "sandbox:PATH, e.g. sandbox:.onenet/sandbox.db"  # type: ignore[attr-defined]
