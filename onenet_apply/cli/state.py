"""The shared state store as a command uses it: opened from `--state` or
`$ONENET_STATE` before anything changes, so a store that cannot be reached stops
the command with one line and nothing applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from onenet_apply.backends.base import Backend
    from onenet_apply.store.history import RunLog
    from onenet_apply.store.lock import StoreLocks
    from onenet_apply.store.session import Store


@dataclass
class SharedState:
    """The store, the site's lock in it, and the history of this run."""

    store: Store
    locks: StoreLocks
    ledger: RunLog

    def close(self) -> None:
        self.store.close()


def open_shared_state(
    option: str | None,
    backend: Backend,
    *,
    kind: str,
    command: str,
    site_id: str,
    source_file: str = "",
) -> SharedState | None:
    """The store `option` (or $ONENET_STATE) names, ready for one run of `kind` on
    `site_id`; None without one (the backend keeps its own lock and journal)."""
    from onenet_apply.store.address import state_address

    address = state_address(option)
    if address is None:
        return None
    from onenet_apply.backends.base import platform_name
    from onenet_apply.store.actor import current_actor
    from onenet_apply.store.session import open_store

    store = open_store(address, current_actor(command), site_id)
    locks = store.locks(lambda site: platform_name(backend, site), waiting=_say)
    return SharedState(store, locks, store.run_log(kind, site_id, locks, source_file))


def _say(line: str) -> None:
    click.echo(line, err=True)
