"""Shell completion beyond click's own: site files for SITE_FILE and --site, site ids
from the sandbox, user ids for `credentials reset`. Completion runs on every Tab,
so it only reads a sandbox that exists (never a remote backend) and is silent on
any error: a broken sandbox completes nothing rather than printing a traceback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import click

from onenet_apply.cli.site_ref import META, SITE_FILE_ENDINGS

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from onenet_apply.backends.sandbox import SandboxBackend


def site_files(incomplete: str) -> list[CompletionItem]:
    """Directories (with a trailing /) and .yaml/.yml files starting with `incomplete`."""
    from click.shell_completion import CompletionItem  # loaded only when completing

    directory, prefix = os.path.split(incomplete)
    try:
        names = sorted(os.listdir(directory or "."))
    except OSError:
        return []
    items = []
    for name in names:
        if not name.startswith(prefix) or (name.startswith(".") and not prefix.startswith(".")):
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            items.append(CompletionItem(path + "/"))
        elif name.lower().endswith(SITE_FILE_ENDINGS):
            items.append(CompletionItem(path))
    return items


def complete_site_files(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """For SITE_FILE arguments."""
    return site_files(incomplete)


@contextmanager
def _sandbox(ctx: click.Context) -> Iterator[SandboxBackend | None]:
    """The sandbox --backend (or $ONENET_BACKEND, or the default) names, if it is one
    and exists; None otherwise."""
    from onenet_apply.backends import backend_url

    url = backend_url(ctx.params.get("backend"))
    if not url.startswith("sandbox:"):
        yield None  # a remote backend is never contacted for a completion
        return
    backend = None
    with suppress(Exception):
        from onenet_apply.backends.sandbox import SandboxBackend

        backend = SandboxBackend(url.removeprefix("sandbox:"), faults=None, create=False)
    try:
        yield backend
    finally:
        if backend is not None:
            backend.close()


def site_ids(ctx: click.Context) -> list[str]:
    """The sandbox's site ids; none when there is no readable sandbox."""
    with suppress(Exception), _sandbox(ctx) as backend:
        return backend.sites() if backend is not None else []
    return []


def complete_sites(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """For --site: the sandbox's site ids, then site files."""
    from click.shell_completion import CompletionItem

    ids = [CompletionItem(s) for s in site_ids(ctx) if s.startswith(incomplete)]
    return ids + site_files(incomplete)


def reset_user_ids(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """For `credentials reset USER_ID...`: the site's users with a desk phone, from the
    sandbox, else from the site file --site named; those already named left out."""
    from click.shell_completion import CompletionItem

    site = ctx.params.get("site")
    if not site:
        return []
    ids: list[str] = []
    with suppress(Exception), _sandbox(ctx) as backend:
        if backend is not None:
            state = backend.read_state(str(site))
            ids = [u for u, c in state.users.items() if c.item.desk_phone != "none"]
    found = ctx.meta.get(META)
    if not ids and found is not None:
        ids = _file_user_ids(found.path)
    named = set(ctx.params.get("users") or ())
    return [CompletionItem(u) for u in sorted(ids) if u.startswith(incomplete) and u not in named]


def _file_user_ids(path: str) -> list[str]:
    with suppress(Exception):
        from onenet_apply.sitefile.loader import load_site_file

        users = load_site_file(path).data.get("users")
        return [
            u
            for u, entry in users.items()
            if isinstance(entry, dict) and entry.get("desk_phone", "none") != "none"
        ]
    return []
