"""`onenet apply`: carry out a site file's plan, or a reviewed saved plan."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click

from onenet_apply.backends import open_backend
from onenet_apply.cli.exits import (
    BLOCKED_ONLY,
    EXIT_BLOCKED,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PENDING,
)
from onenet_apply.cli.option_types import OUT_FILE, SECONDS
from onenet_apply.cli.options import backend_option, state_option, target_option
from onenet_apply.cli.recipients import open_sink, read_recipients, recipient_options
from onenet_apply.cli.validate import report_problems

COMMAND = "onenet apply"

if TYPE_CHECKING:
    from onenet_apply.apply.applier import ApplyReport
    from onenet_apply.apply.credentials import CredentialsSink
    from onenet_apply.backends.base import Backend
    from onenet_apply.model.plan import Action, Plan, Target
    from onenet_apply.model.spec import SiteSpec
    from onenet_apply.savedplan.plan_file import SavedPlan


@click.command("apply")
@click.argument("source", metavar="SITE_FILE|PLAN_FILE")
@backend_option
@click.option("--yes", is_flag=True, help="Apply without asking (needed without a terminal).")
@click.option("--allow-delete", is_flag=True, help="Allow deletions.")
@click.option("--force", is_flag=True, help="Lift the policy.max_change_percent gate.")
@click.option(
    "--credentials-out",
    type=OUT_FILE,
    metavar="CSV_FILE",
    help="Write issued login details here (must not exist). Default: a new "
    "onenet-credentials-SITE-TIME.csv (.csv.age, encrypted to recipients) in the current "
    "directory. Refused where git would pick it up (in a work tree, not ignored).",
)
@recipient_options
@click.option(
    "--wait-activation",
    type=SECONDS,
    default=0,
    metavar="SECONDS",
    help="Keep applying while deferred actions wait for activation, up to SECONDS.",
)
@click.option(
    "--lock-timeout",
    type=SECONDS,
    default=30,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for another apply of the site.",
)
@state_option
@target_option
def apply_command(
    source: str,
    backend: str | None,
    yes: bool,
    allow_delete: bool,
    force: bool,
    credentials_out: str | None,
    recipient_keys: tuple[str, ...],
    recipient_files: tuple[str, ...],
    wait_activation: float,
    lock_timeout: float,
    state: str | None,
    targets: tuple[Target, ...],
) -> None:
    """Carry out a site file's plan (or a saved plan) against the backend."""
    # the stages, loaded when the command runs (see cli/validate.py)
    from onenet_apply.apply.applier import GatedError, apply_saved, apply_site
    from onenet_apply.apply.credentials import CredentialsFileError
    from onenet_apply.backends.base import address_site
    from onenet_apply.cli.state import SharedState, open_shared_state
    from onenet_apply.model.plan import PlanFileError
    from onenet_apply.planning.ordering import PlanError
    from onenet_apply.planning.planner import PlanOptions
    from onenet_apply.planning.render import render_text_chunks

    recipients = read_recipients(recipient_keys, recipient_files, credentials_out)
    saved = _read_saved_plan(source)
    if saved is not None and (allow_delete or force):
        raise click.ClickException(
            "--allow-delete and --force go with a site file; a saved plan keeps the options "
            "it was made with (make it again with onenet plan --allow-delete/--force --out)"
        )
    if saved is not None and targets:
        raise click.ClickException(
            "--target goes with a site file; a saved plan keeps the targets it was made "
            "with (make it again with onenet plan --target --out)"
        )
    site_backend = open_backend(backend, create=saved is None)  # a plan needs its site

    def approve(the_plan: Plan) -> bool:
        """Show the plan made under the lock; ask for it on a terminal."""
        for chunk in render_text_chunks(the_plan, click.style):
            click.echo(chunk, nl=False)
        if the_plan.gated:
            raise GatedError(the_plan.gated)
        if not the_plan.ready:
            return bool(wait_activation)
        if sink is not None and any(a.issues_login_details for a in the_plan.ready):
            sink.check_place()  # refused here, before anything is applied
        _confirm(yes, len(the_plan.ready))
        return True

    sink: CredentialsSink | None = None
    shared: SharedState | None = None
    try:
        spec = (
            _valid_spec(source, site_backend)
            if saved is None
            else _valid_saved(source, saved, site_backend)
        )
        address_site(site_backend, spec.site.id, spec.site.platform_id)
        site = spec.site.id
        shared = open_shared_state(
            state, site_backend, kind="apply", command=COMMAND, site_id=site, source_file=source
        )
        along = {"locks": shared.locks, "ledger": shared.ledger} if shared else {}
        sink = open_sink(site, credentials_out, recipients)
        with sink:
            progress = ApplyProgress(sys.stderr.isatty())
            if saved is None:
                report = apply_site(
                    site_backend,
                    spec,
                    PlanOptions(allow_delete, force, targets),
                    sink,
                    lock_timeout=lock_timeout,
                    wait_activation=wait_activation,
                    progress=progress,
                    approve=approve,
                    **along,
                )
            else:
                from onenet_apply.savedplan.saved_check import StalePlanError

                try:
                    report = apply_saved(
                        site_backend,
                        saved,
                        sink,
                        lock_timeout=lock_timeout,
                        progress=progress,
                        approve=approve,
                        **along,
                    )
                except StalePlanError as e:
                    raise click.ClickException(str(e)) from None
                _note_unreviewed(report)
    except (GatedError, PlanError) as e:
        raise click.ClickException(str(e)) from None
    except PlanFileError as e:  # tampered: the actions disagree with the plan's own content
        raise click.ClickException(f"{source}: {e}") from None
    except CredentialsFileError as e:  # the platform committed nothing it could not record
        raise click.ClickException(
            f"{e}; actions whose login details could not be written were not applied"
        ) from None
    except KeyboardInterrupt:  # committed batches stay: say where their login details are
        if sink is not None and sink.written:
            click.echo(
                f"Interrupted after writing {sink.written} desk phone login details to "
                f"{sink.path}; keep it safe, it is written nowhere else.",
                err=True,
            )
        raise
    finally:
        site_backend.close()
        if shared is not None:
            shared.close()
    sys.exit(_summarise(report, sink))


def _read_saved_plan(source: str) -> SavedPlan | None:
    """A file that starts like a saved plan is one, whatever its name; anything else
    is read as a site file (a site file in JSON syntax included)."""
    from onenet_apply.model.plan import PlanFileError
    from onenet_apply.savedplan.recognition import is_saved_plan

    if not is_saved_plan(source):
        return None
    from onenet_apply.savedplan.plan_file import read_saved_plan

    try:
        return read_saved_plan(source)
    except PlanFileError as e:
        raise click.ClickException(str(e)) from None


def _valid_saved(source: str, saved: SavedPlan, backend: Backend) -> SiteSpec:
    """The saved plan's site content, valid as a site file on this backend."""
    from onenet_apply.savedplan import spec_check
    from onenet_apply.savedplan.plan_file import REMAKE

    why = spec_check.problem(saved.spec, backend.catalogue())
    if why is not None:
        raise click.ClickException(
            f"{source}: the plan's site content is not a valid site here: {why}; {REMAKE}"
        )
    return saved.spec


def _note_unreviewed(report: ApplyReport) -> None:
    if report.unreviewed:
        count = len(report.unreviewed)
        click.echo(
            f"Not in the saved plan, so not applied: {count} action"
            f"{'s' if count != 1 else ''} the site now needs ({', '.join(report.unreviewed[:5])}"
            f"{', ...' if count > 5 else ''}); make a new plan to review them.",
            err=True,
        )


def _valid_spec(path: str, backend: Backend) -> SiteSpec:
    from onenet_apply.sitefile.validate import validate_file

    result = validate_file(path, backend.catalogue())
    report_problems([result])
    if result.spec is None:
        sys.exit(EXIT_ERROR)
    return result.spec


def _confirm(yes: bool, count: int) -> None:
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.ClickException(
            "apply asks for confirmation on a terminal; without one, add --yes"
        )
    if not click.confirm(f"Apply {count} action{'s' if count != 1 else ''}?", err=True):
        raise click.ClickException("nothing applied")


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


def _summarise(report: ApplyReport, sink: CredentialsSink) -> int:
    from onenet_apply.model.plan import Status

    last = report.last_plan
    counts = last.counts() if last else {}
    click.echo(
        f"Apply: {len(report.applied)} applied, {counts.get('deferred', 0)} deferred, "
        f"{counts.get('blocked', 0)} blocked, {counts.get('gated', 0)} gated, "
        f"{len(report.failed)} failed.",
        err=True,
    )
    for action_id, why in report.failed:
        click.secho(f"Failed: {action_id}: {why}", fg="red", err=True)
    if sink.written:
        click.echo(
            f"Wrote {sink.written} desk phone login detail"
            f"{'s' if sink.written != 1 else ''} to {sink.path}; keep it safe, it is "
            "written nowhere else.",
            err=True,
        )
    if report.failed:
        return EXIT_ERROR
    if report.remaining(Status.DEFERRED):
        return EXIT_PENDING
    if report.remaining(Status.BLOCKED):
        click.echo(BLOCKED_ONLY, err=True)
        return EXIT_BLOCKED
    return EXIT_OK
