"""Opening a sandbox by URL, and refusing to read one that is not there."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from onenet_apply.backends import DEFAULT_SANDBOX
from onenet_apply.backends.base import BackendError

if TYPE_CHECKING:
    from onenet_apply.backends.sandbox.backend import SandboxBackend


def open_url(location: str, *, create: bool) -> SandboxBackend:
    """The sandbox at `sandbox:PATH` (or `sandbox://PATH`); the registry's factory."""
    from onenet_apply.backends.sandbox.backend import SandboxBackend  # the heavy half

    return SandboxBackend(location.removeprefix("//") or str(DEFAULT_SANDBOX), create=create)


open_url.usage = "sandbox:PATH, e.g. sandbox:.onenet/sandbox.db"  # type: ignore[attr-defined]


class MissingSandboxError(BackendError):
    """Reading a sandbox that does not exist would plan every site as new."""

    def __init__(self, path: Path) -> None:
        what = "is an empty file" if path.exists() else "does not exist"
        super().__init__(
            f"sandbox:{path} {what}, so no site is on it: check --backend "
            "(or $ONENET_BACKEND); onenet apply creates it"
        )


def holds_nothing(path: Path) -> bool:
    """No file, or an empty one (SQLite would take it for a new database; it is more
    likely a truncated sandbox or a wrong path) with no write-ahead log beside it."""
    try:
        if path.stat().st_size:
            return False
    except FileNotFoundError:
        return True
    wal = path.with_name(path.name + "-wal")
    return not (wal.exists() and wal.stat().st_size)
