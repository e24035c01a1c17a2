"""The store's errors: a BackendError, so the command line prints them as one line."""

from __future__ import annotations

from onenet_apply.backends.errors import BackendError


class StoreError(BackendError):
    """The state store cannot be reached, read or written; nothing was applied."""


class LockLostError(StoreError):
    """The connection that held the site's lock is gone, so the lock is too: the
    apply stops before its next batch rather than run without it."""
