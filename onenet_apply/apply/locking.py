"""Where a site's apply lock is kept: a shared store's, else the backend's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from onenet_apply.backends.base import Backend, BackendError, SiteLocks


def site_locks(backend: Backend, locks: SiteLocks | None = None) -> SiteLocks:
    """`locks` when given (a shared store every applier of the site uses), together
    with the backend's own when it keeps one, else the backend's own; a backend that
    keeps none cannot be applied to without a store."""
    own = backend if isinstance(backend, SiteLocks) else None
    if locks is not None:
        return locks if own is None else BothLocks(locks, own)
    if own is not None:
        return own
    raise BackendError(
        f"the backend {type(backend).__name__} keeps no site lock, so two applies could "
        "run at once: give a shared store that does"
    )


@dataclass(frozen=True, slots=True)
class BothLocks:
    """The shared store's lock, then the backend's own: an admin who applies without
    the store (or an older onenet) still cannot run beside one who applies with it."""

    shared: SiteLocks
    own: SiteLocks

    @contextmanager
    def lock(self, site_id: str, timeout: float, command: str = "") -> Iterator[None]:
        with (
            self.shared.lock(site_id, timeout, command),
            self.own.lock(site_id, timeout, command),
        ):
            yield
