"""The errors a backend raises on purpose, apart from the contract's types.

The command line catches `BackendError` around every command, so this module
imports nothing: `onenet --version` and `onenet validate` need the class, not
the backend contract and the model behind it (`backends/base.py` re-exports them).
"""

from __future__ import annotations


class BackendError(Exception):
    """Base of every error a backend raises on purpose."""


class RefusedError(BackendError):
    """A platform rule refuses the action; nothing was changed."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{message} [{rule}]")
        self.rule = rule
        self.detail = message


class NotFoundError(BackendError):
    """The site, user or group does not exist."""


class ConflictError(BackendError):
    """The platform's state is not what the action expected (someone else changed it)."""


class TransientError(BackendError):
    """A passing failure; the action may or may not have taken effect. Retry by re-reading."""
