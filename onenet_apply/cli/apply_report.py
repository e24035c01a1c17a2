"""What `onenet apply` tells the user about a site: the prompt, progress, the
apply line, where login details went, and the site's exit code."""

from __future__ import annotations

import functools
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from onenet_apply.cli.exits import (
    BLOCKED_ONLY,
    EXIT_BLOCKED,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PENDING,
)

if TYPE_CHECKING:
    from onenet_apply.apply.applier import ApplyReport
    from onenet_apply.apply.credentials import CredentialsSink
    from onenet_apply.model.plan import Action


def confirm(yes: bool, count: int) -> None:
    from onenet_apply.cli.confirm import confirm as ask

    ask(yes, f"Apply {count} action{'s' if count != 1 else ''}?", "apply", "nothing applied")


class ApplyProgress:
    """Progress on stderr: every action on a terminal; in a log (CI), a count every
    `every` seconds, so a long apply shows it is alive without a line per action."""

    def __init__(self, interactive: bool, every: float = 10.0) -> None:
        self.interactive = interactive
        self.every = every
        self.last = time.monotonic()

    def __call__(self, index: int, total: int, action: Action) -> None:
        if self.interactive:
            click.echo(f"[{index}/{total}] {action.id}", err=True)
            return
        now = time.monotonic()
        if now - self.last >= self.every and index < total:
            self.last = now
            click.echo(f"Applied {index} of {total} actions ({index * 100 // total}%)...", err=True)


def summarise(report: ApplyReport, sink: CredentialsSink) -> int:
    """One site's apply line, where its login details went, and its exit code."""
    apply_line(report)
    credentials_note(sink)
    return site_exit(report, say_blocked=True)


def apply_line(report: ApplyReport) -> None:
    last = report.last_plan
    counts = last.counts() if last else {}
    click.echo(
        f"Apply: {len(report.applied)} applied, {counts.get('deferred', 0)} deferred, "
        f"{counts.get('blocked', 0)} blocked, {counts.get('gated', 0)} gated, "
        f"{len(report.failed)} failed."
    )
    for action_id, why in report.failed:
        click.secho(f"Failed: {action_id}: {why}", fg="red", err=True)


SINKS = "onenet.credentials_sinks"  # the command context's meta: the sinks it opened
_told: weakref.WeakSet[CredentialsSink] = weakref.WeakSet()  # said where their rows are


def opened(sink: CredentialsSink) -> CredentialsSink:
    """Note `sink` as one of the running command's, for `tells_where_on_interrupt`."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.find_root().meta.setdefault(SINKS, []).append(sink)
    return sink


def tells_where_on_interrupt(command: Callable[..., Any]) -> Callable[..., Any]:
    """A command that writes login details: Ctrl-C at any instant of it (between sites,
    while closing, while reporting) first says where the ones it committed are, for
    each credentials file it opened (`opened`), once."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            ctx = click.get_current_context(silent=True)
            for sink in ctx.find_root().meta.get(SINKS, []) if ctx is not None else []:
                stopped_note(sink, "Interrupted")
            raise

    return run


def credentials_note(sink: CredentialsSink) -> None:
    if sink.written and sink not in _told:
        _told.add(sink)
        click.echo(
            f"Wrote {sink.written} desk phone login detail"
            f"{'s' if sink.written != 1 else ''} to {sink.path}; keep it safe, it is "
            "written nowhere else."
        )


def stopped_note(sink: CredentialsSink, how: str) -> None:
    """Before the error of a run that stopped midway: where the login details of the
    batches it committed are (on stderr, beside that error); said once."""
    if sink.written and sink not in _told:
        _told.add(sink)
        click.echo(
            f"{how} after writing {sink.written} desk phone login detail"
            f"{'s' if sink.written != 1 else ''} to {sink.path}; keep it safe, it is "
            "written nowhere else.",
            err=True,
        )


def site_exit(report: ApplyReport, say_blocked: bool = False) -> int:
    """0 done, 1 a failed action, 3 deferred work left, 4 only blocked work left."""
    from onenet_apply.model.plan import Status

    if report.failed:
        return EXIT_ERROR
    if report.remaining(Status.DEFERRED):
        return EXIT_PENDING
    if report.remaining(Status.BLOCKED):
        if say_blocked:
            click.echo(BLOCKED_ONLY, err=True)
        return EXIT_BLOCKED
    return EXIT_OK
