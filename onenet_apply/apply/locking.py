"""Where a site's apply lock is kept: a shared store's, else the backend's own."""

from __future__ import annotations

from onenet_apply.backends.base import Backend, BackendError, SiteLocks


def site_locks(backend: Backend, locks: SiteLocks | None = None) -> SiteLocks:
    """`locks` when given (a shared store every applier of the site uses), else the
    backend's own; a backend that keeps none cannot be applied to without a store."""
    if locks is not None:
        return locks
    if isinstance(backend, SiteLocks):
        return backend
    raise BackendError(
        f"the backend {type(backend).__name__} keeps no site lock, so two applies could "
        "run at once: give a shared store that does"
    )
