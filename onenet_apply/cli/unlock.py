"""`onenet unlock`: break a site's apply lock by hand, e.g. one whose holder hangs.

With a shared store, the holder's lock session is ended (PostgreSQL lets go of the
lock with it) and the break is recorded in the history; without one, the backend's
own lock is broken (the sandbox's, as `onenet sandbox unlock`). A holder that still
runs stops before its next batch.
"""

from __future__ import annotations

import click

from onenet_apply.backends import open_backend
from onenet_apply.cli.options import backend_option, platform_id_option, site_option, state_option
from onenet_apply.cli.site_ref import platform_id_of

COMMAND = "onenet unlock"


@click.command("unlock")
@site_option
@platform_id_option
@state_option
@backend_option
def unlock_command(
    site: str, platform_id: str | None, state: str | None, backend: str | None
) -> None:
    """Break a site's apply lock, in the shared store or the backend."""
    platform_id = platform_id_of(platform_id)  # --site FILE: the file's
    from onenet_apply.store.address import state_address

    if state_address(state) is None:
        from onenet_apply.cli.sandbox import break_sandbox_lock

        break_sandbox_lock(site, backend)
        return
    from onenet_apply.backends.base import address_site
    from onenet_apply.cli.state import open_shared_state

    platform = open_backend(backend)
    address_site(platform, site, platform_id)
    shared = open_shared_state(state, platform, kind="lock-break", command=COMMAND, site_id=site)
    assert shared is not None  # a store was named
    try:
        holder = shared.locks.break_lock(site)
        if holder is None:
            click.echo(f"site {site} is not locked; nothing to break")
            return
        what = f"broke the lock of {holder.describe()}"
        shared.ledger.begin()
        shared.ledger.end("ok", {}, what)
    finally:
        shared.close()
        platform.close()
    click.echo(f"Broke the lock on site {site} held by {holder.describe()}.")
    click.echo(
        f"pid {holder.pid} on {holder.host} stops before its next change to the site, "
        "if it still runs.",
        err=True,
    )
