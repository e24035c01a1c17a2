"""Backends: where sites live. `open_backend` turns a --backend URL into one,
through the registry of installed backends (registry.py).

Importing the package loads no backend and not the contract: the command line
imports `backends.errors` for every command, `onenet --version` included.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from onenet_apply.backends.base import Backend

DEFAULT_SANDBOX = Path(".onenet") / "sandbox.db"
ENV_VAR = "ONENET_BACKEND"


def backend_url(option: str | None) -> str:
    """--backend, else $ONENET_BACKEND, else the embedded sandbox in .onenet/."""
    return option or os.environ.get(ENV_VAR) or f"sandbox:{DEFAULT_SANDBOX}"


def open_backend(url: str | None = None, *, create: bool = False) -> Backend:
    """The backend at `url`. Only a command that writes a site (`create`) may bring
    a new site store (a sandbox file) into being; a reader of a missing one is told so."""
    from onenet_apply.backends import registry

    return registry.open_url(backend_url(url), create=create)
