"""`onenet sandbox ...`: play the carrier's part, look inside the embedded sandbox, or
serve it over OCI-P (`serve-ocip`, the loopback peer)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from onenet_apply.backends import backend_url, open_backend
from onenet_apply.backends.errors import BackendError
from onenet_apply.cli.help import WholeHelpGroup
from onenet_apply.cli.options import backend_option, format_option, site_option

if TYPE_CHECKING:
    from onenet_apply.backends.sandbox import SandboxBackend
    from onenet_apply.model.catalogue import Catalogue
    from onenet_apply.model.state import SiteState


def open_sandbox(url: str | None, *, create: bool = False) -> SandboxBackend:
    # the backend, loaded when a command runs (see cli/validate.py)
    from onenet_apply.backends.sandbox import SandboxBackend

    backend = open_backend(url, create=create)
    if not isinstance(backend, SandboxBackend):
        raise click.ClickException(f"{backend_url(url)} is not a sandbox backend")
    return backend


@click.group(cls=WholeHelpGroup)
def sandbox() -> None:
    """Control the embedded sandbox: activate or fail pending users and groups, retry or
    remove failed ones, or serve it over OCI-P."""


# what each carrier or team verb acts on, and the sandbox method that plays it
_VERBS: dict[str, tuple[str, str]] = {
    "activated": ("pending", "activate"),
    "failed": ("pending", "fail"),
    "pending": ("failed", "retry"),
    "removed": ("failed", "remove"),
}


def _settle(verb: str, site: str, ids: tuple[str, ...], everything: bool, url: str | None) -> None:
    """Play the carrier's or the One Net Business team's part on named objects."""
    state, method = _VERBS[verb]
    if bool(ids) == everything:
        raise click.UsageError(
            f"name the {state} users and groups (ID... or TYPE/ID...), or give --all"
        )
    backend = open_sandbox(url)
    try:
        outcome = getattr(backend, method)(site, None if everything else ids)
    except BackendError as e:
        raise click.ClickException(str(e)) from None
    finally:
        backend.close()
    if not outcome.changed:
        click.echo("nothing is pending" if state == "pending" else "nothing has failed", err=True)
    for key in outcome.changed:
        click.echo(f"{key}: {verb}")


@sandbox.command()
@site_option
@click.argument("ids", nargs=-1, metavar="[ID...]")
@click.option("--all", "everything", is_flag=True, help="Every pending user and group.")
@backend_option
def activate(site: str, ids: tuple[str, ...], everything: bool, backend: str | None) -> None:
    """Activate pending users and groups, as the carrier would."""
    _settle("activated", site, ids, everything, backend)


@sandbox.command()
@site_option
@click.argument("ids", nargs=-1, metavar="[ID...]")
@click.option("--all", "everything", is_flag=True, help="Every pending user and group.")
@backend_option
def fail(site: str, ids: tuple[str, ...], everything: bool, backend: str | None) -> None:
    """Fail the activation of pending users and groups, as the carrier may."""
    _settle("failed", site, ids, everything, backend)


@sandbox.command()
@site_option
@click.argument("ids", nargs=-1, metavar="[ID...]")
@click.option("--all", "everything", is_flag=True, help="Every failed user and group.")
@backend_option
def retry(site: str, ids: tuple[str, ...], everything: bool, backend: str | None) -> None:
    """Retry failed activations (pending again), as the One Net Business team may."""
    _settle("pending", site, ids, everything, backend)


@sandbox.command()
@site_option
@click.argument("ids", nargs=-1, metavar="[ID...]")
@click.option("--all", "everything", is_flag=True, help="Every failed user and group.")
@backend_option
def remove(site: str, ids: tuple[str, ...], everything: bool, backend: str | None) -> None:
    """Remove failed users and groups, freeing their numbers, extensions and licences,
    as the One Net Business team may."""
    _settle("removed", site, ids, everything, backend)


MAX_LICENCES = 1_000_000
UNLIMITED = ("none", "unlimited")  # NAME=none or NAME=unlimited removes a limit


@sandbox.command()
@site_option
@click.option("--activation", metavar="MODE", help="manual (default), immediate, or after:SECONDS.")
@click.option(
    "--licence",
    "licences",
    multiple=True,
    metavar="NAME=COUNT",
    help="Licences of a catalogue package or option the site owns, 0 to 1,000,000 "
    "(repeat); NAME=unlimited (or NAME=none) removes the limit.",
)
@backend_option
def configure(
    site: str, activation: str | None, licences: tuple[str, ...], backend: str | None
) -> None:
    """Set a sandbox site's activation mode and owned licences."""
    sandbox_backend = open_sandbox(backend, create=True)
    try:
        owned: dict[str, int] | None = None
        if licences:
            current = (
                sandbox_backend.settings(site)["licences"]
                if site in (sandbox_backend.sites())
                else None
            )
            owned = licence_counts(licences, current or {}, sandbox_backend.catalogue())
        sandbox_backend.configure(site, activation=activation, licences=owned)
        settings = sandbox_backend.settings(site)
    except BackendError as e:
        raise click.ClickException(str(e)) from None
    finally:
        sandbox_backend.close()
    click.echo(
        f"site {site}: activation {settings['activation']}, licences "
        f"{describe_licences(settings['licences'])}"
    )


def licence_counts(
    items: tuple[str, ...], current: dict[str, int], catalogue: Catalogue
) -> dict[str, int]:
    """The owned licences after `--licence NAME=COUNT` items: names from the catalogue,
    counts in ASCII digits up to MAX_LICENCES (never `０` or a 23-digit number)."""
    from onenet_apply.sitefile.hints import did_you_mean

    owned = dict(current)
    known = catalogue.packages | catalogue.options
    for item in items:
        name, sep, count = item.partition("=")
        if not sep or not name:
            raise click.UsageError(f"--licence {item!r}: write NAME=COUNT, e.g. professional=10")
        if name not in known:
            hint = did_you_mean(name, known)
            raise click.UsageError(
                f"--licence {item!r}: {name} is not a package or option of the catalogue"
                + (f" ({hint})" if hint else f"; it has: {', '.join(sorted(known))}")
            )
        if count in UNLIMITED:
            owned.pop(name, None)
        elif count.isascii() and count.isdigit() and int(count) <= MAX_LICENCES:
            owned[name] = int(count)
        else:
            raise click.UsageError(
                f"--licence {item!r}: the count must be 0 to {MAX_LICENCES:,} in digits 0-9, "
                "or unlimited to remove the limit"
            )
    return owned


def describe_licences(owned: dict[str, int] | None) -> str:
    """`professional=40, standard=20`, as the option is written; `unlimited` for none."""
    if not owned:
        return "unlimited"
    return ", ".join(f"{name}={count}" for name, count in sorted(owned.items()))


@sandbox.command()
@site_option
@format_option("json prints every user and group as one JSON document.")
@backend_option
def status(site: str, fmt: str, backend: str | None) -> None:
    """Every user and group of a site with its lifecycle state."""
    sandbox_backend = open_sandbox(backend)
    try:
        state = sandbox_backend.read_state(site)
        if not state.exists:
            raise click.ClickException(f"no site {site} in the sandbox {sandbox_backend.path}")
        settings = sandbox_backend.settings(site)
        holder = sandbox_backend.lock_holder(site)
    finally:
        sandbox_backend.close()
    rows = status_rows(state)
    if fmt == "json":
        import json

        click.echo(
            json.dumps(
                {
                    "site": site,
                    "activation": settings["activation"],
                    "licences": settings["licences"],
                    "lock": holder.describe() if holder else None,
                    "objects": rows,
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"site {site}: activation {settings['activation']}"
        + (f"; locked by {holder.describe()}" if holder else "")
    )
    headers = ("TYPE", "ID", "STATE", "NUMBER", "EXTENSION", "NAME")
    table = [headers] + [
        tuple(str(r[k] or "") for k in ("type", "id", "state", "number", "extension", "name"))
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    click.echo(", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "empty")


def status_rows(state: SiteState) -> list[dict[str, str | None]]:
    from onenet_apply.model.vocabulary import SECTION_OF

    rows: list[dict[str, str | None]] = []
    for target_type in SECTION_OF:
        for ident, current in sorted(state.section(target_type).items()):
            item = current.item
            name = f"{item.first_name} {item.last_name}" if target_type == "user" else item.name
            rows.append(
                {
                    "type": target_type,
                    "id": ident,
                    "state": str(current.lifecycle),
                    "number": getattr(item, "number", None),
                    "extension": getattr(item, "extension", None),
                    "name": name,
                }
            )
    return rows


@sandbox.command()
@site_option
@backend_option
def unlock(site: str, backend: str | None) -> None:
    """Break a site's apply lock, e.g. one left by an apply killed on another host."""
    break_sandbox_lock(site, backend)


def break_sandbox_lock(site: str, backend: str | None) -> None:
    """Break the lock the sandbox keeps itself, and say whose it was."""
    from onenet_apply.backends.sandbox.lock import LockDamage

    sandbox_backend = open_sandbox(backend)
    try:
        record = sandbox_backend.break_lock(site)
    finally:
        sandbox_backend.close()
    if record is None:
        click.echo(f"site {site} is not locked; nothing to break")
        return
    if isinstance(record, LockDamage):
        click.echo(f"Broke the damaged lock on site {site} ({record}).")
        return
    click.echo(
        f"Broke the lock on site {site} held by {record.holder.describe()}; it {record.renewed()}."
    )
    if record.alive():
        click.echo(
            f"pid {record.pid} on {record.host} may still be running: it stops before its "
            "next change to the site.",
            err=True,
        )


@sandbox.command("serve-ocip")
@click.option(
    "--listen",
    default="127.0.0.1:2208",
    show_default=True,
    metavar="HOST:PORT",
    help="Where to listen; port 0 picks a free one (the line printed names it).",
)
@click.option(
    "--enterprise",
    default="sandbox",
    show_default=True,
    metavar="ID",
    help="The enterprise whose groups the sandbox's sites are.",
)
@click.option("--tls-cert", type=click.Path(dir_okay=False), help="Serve TLS: the certificate.")
@click.option("--tls-key", type=click.Path(dir_okay=False), help="Serve TLS: its private key.")
@click.option(
    "--faults",
    "fault_plan",
    metavar="PLAN",
    default=None,
    help="Faults to inject, for tests (default $ONENET_OCIP_PEER_FAULTS; docs/ocip.md).",
)
@click.option(
    "--stats",
    is_flag=True,
    help="On stopping, print `served N documents, M requests` on stderr (benchmarks).",
)
@backend_option
def serve_ocip(
    listen: str,
    enterprise: str,
    tls_cert: str | None,
    tls_key: str | None,
    fault_plan: str | None,
    stats: bool,
    backend: str | None,
) -> None:
    """Serve the sandbox over OCI-P, as a BroadWorks server would, until SIGTERM or
    Ctrl-C. The login is ONENET_OCIP_USER and ONENET_OCIP_PASSWORD; the line
    `listening on HOST:PORT` says it is ready."""
    from onenet_apply.backends.ocip.peer import faults, server
    from onenet_apply.backends.ocip.url import is_loopback, login_from_environment

    try:
        where = server.parse_listen(listen)
        plan = fault_plan if fault_plan is not None else os.environ.get(faults.ENVIRONMENT, "")
        faults.FaultPlan.parse(plan)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    if (tls_cert is None) != (tls_key is None):
        raise click.ClickException("give both --tls-cert and --tls-key, or neither")
    if tls_cert is None and not is_loopback(where.host):
        raise click.ClickException(
            f"--listen {listen}: plain OCI-P carries the password in the clear; serve beyond "
            "this machine only with --tls-cert and --tls-key"
        )
    account = login_from_environment()
    try:
        tls = server.tls_context(tls_cert, tls_key) if tls_cert and tls_key else None
    except (OSError, ValueError) as e:
        raise click.ClickException(f"--tls-cert/--tls-key: cannot load them: {e}") from None
    sandbox_backend = open_sandbox(backend, create=True)
    try:
        served = server.serve_sandbox(
            sandbox_backend,
            where,
            enterprise=enterprise,
            account=account,
            tls=tls,
            fault_plan=plan,
            announce=_announce,
        )
    except OSError as e:
        raise click.ClickException(f"cannot listen on {listen}: {e.strerror or e}") from None
    finally:
        sandbox_backend.close()
    if stats:
        click.echo(served.describe(), err=True)


def _announce(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()
