"""`onenet history`: what was done to a site, run by run, from the shared store; or,
without one, the backend's own journal (the sandbox's), action by action."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING

import click

from onenet_apply.backends import open_backend
from onenet_apply.cli.option_types import SINCE
from onenet_apply.cli.options import backend_option, format_option, site_option, state_option

if TYPE_CHECKING:
    from onenet_apply.backends.base import JournalEntry
    from onenet_apply.store.address import StateAddress
    from onenet_apply.store.runs import RunRecord

COMMAND = "onenet history"


@click.command("history")
@site_option
@state_option
@backend_option
@click.option(
    "--since",
    type=SINCE,
    default=None,
    metavar="WHEN",
    help="Only what happened since WHEN: a date or time (2026-11-01, 2026-11-01T09:30Z) "
    "or an age (30m, 12h, 7d, 2w).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Only the latest N runs (journal entries without a store); 0: all.",
)
@format_option("Output format.")
def history_command(
    site: str,
    state: str | None,
    backend: str | None,
    since: datetime | None,
    limit: int,
    fmt: str,
) -> None:
    """What was done to a site: each apply, credentials reset and lock break, with
    who ran it, from which commit, and each action's outcome."""
    from onenet_apply.store.address import state_address

    address = state_address(state)
    if address is None:
        _show_journal(site, backend, since, limit, fmt)
    else:
        _show_runs(address, site, since, limit, fmt)


def _show_runs(
    address: StateAddress, site: str, since: datetime | None, limit: int, fmt: str
) -> None:
    from onenet_apply.store.actor import current_actor
    from onenet_apply.store.runs import read_runs
    from onenet_apply.store.session import open_store

    store = open_store(address, current_actor(COMMAND), site, migrate=False)
    try:
        runs = read_runs(store.conn, site, since, limit or None) if store.has_tables else []
    finally:
        store.close()
    if fmt == "json":
        import json  # not loaded by --help, which imports this module to list the command

        document = {"site": site, "store": address.redacted(), "runs": [asdict(r) for r in runs]}
        click.echo(json.dumps(document, separators=(",", ":")))
        return
    if not runs:
        click.echo(f"No runs recorded for site {site} in {address.redacted()}.")
    for run in runs:
        click.echo(render_run(run))


def render_run(run: RunRecord) -> str:
    """A run as a few lines: what, when, who, from what, then each action."""
    finished = f" to {run.finished_at}" if run.finished_at else ""
    lines = [f"{run.kind} #{run.id} of site {run.site}: {run.outcome}"]
    lines.append(f"  {run.started_at}{finished} on {run.platform}")
    ci = f", CI run {run.ci_run}" if run.ci_run else ""
    lines.append(f"  by {run.os_user}@{run.host} pid {run.pid} ({run.command}{ci})")
    if run.source_file:
        commit = f" at commit {run.source_commit}" if run.source_commit else ""
        lines.append(f"  from {run.source_file}{commit}")
    digests = [f"file {run.source_digest}"] if run.source_digest else []
    digests += [f"plan {run.plan_digest}"] if run.plan_digest else []
    if run.spec_digest:
        digests += [f"site {run.spec_digest}", f"state {run.state_digest}"]
    if digests:
        lines.append("  " + ", ".join(digests))
    if run.summary:
        lines.append("  " + describe_summary(run.summary))
    if run.message:
        lines.append(f"  {run.message}")
    width = max((len(a.outcome) for a in run.actions), default=0)
    for action in run.actions:
        said = f"  {action.message}" if action.message else ""
        lines.append(f"    {action.outcome:<{width}}  {action.action_id}{said}")
    return "\n".join(lines) + "\n"


SUMMARY_ORDER = ("applied", "deferred", "blocked", "gated", "failed", "reset", "skipped")


def describe_summary(summary: dict[str, int]) -> str:
    """A run's counts in the order apply prints them; a count apply does not print
    (unreviewed) only when it is not zero."""
    known = [f"{summary[k]} {k}" for k in SUMMARY_ORDER if k in summary]
    others = [f"{n} {k}" for k, n in summary.items() if k not in SUMMARY_ORDER and n]
    return ", ".join(known + others)


def _show_journal(
    site: str, backend: str | None, since: datetime | None, limit: int, fmt: str
) -> None:
    from onenet_apply.backends.base import BackendError, Journal

    platform = open_backend(backend)
    try:
        if not isinstance(platform, Journal):
            raise BackendError(
                f"the backend {type(platform).__name__} keeps no journal: its history is "
                "in the shared store (--state or $ONENET_STATE)"
            )
        entries = [e for e in platform.journal(site) if _after(e, since)]
    finally:
        platform.close()
    if limit:
        entries = entries[-limit:]
    if fmt == "json":
        import json

        click.echo(
            json.dumps(
                {"site": site, "journal": [asdict(e) for e in entries]}, separators=(",", ":")
            )
        )
        return
    if not entries:
        click.echo(f"No journal entries for site {site}.")
    for entry in entries:
        click.echo(
            f"{entry.seq:>6}  {entry.at}  {entry.outcome:<7}  {entry.action_id}  {entry.detail}"
        )


def _after(entry: JournalEntry, since: datetime | None) -> bool:
    if since is None:
        return True
    try:
        return datetime.fromisoformat(entry.at) >= since
    except ValueError:  # an entry whose time cannot be read is shown, not hidden
        return True
