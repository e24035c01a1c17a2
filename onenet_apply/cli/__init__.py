"""The `onenet` command line: parse options, call the core, map outcomes to exit codes.

Exit codes (README): 0 success or nothing to change; 1 error (bad input,
refusal, usage error); 2 `plan --detailed-exitcode` found changes; 3 `apply`
left deferred work (it converges by itself); 4 only blocked work is left, which
needs a human (from `plan --detailed-exitcode` and `apply`). Usage errors exit 1,
never 2, so CI cannot take a mistyped command for "changes found".
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time

import click

from onenet_apply import __version__
from onenet_apply.apply.applier import ApplyReport, GatedError, apply_saved, apply_site
from onenet_apply.apply.credentials import CredentialsFileError, CredentialsSink
from onenet_apply.backends import backend_url, open_backend
from onenet_apply.backends.base import Backend, BackendError
from onenet_apply.cli.credentials import credentials
from onenet_apply.cli.option_types import OUT_FILE, SECONDS, unwritable_target
from onenet_apply.cli.sandbox import backend_option, sandbox
from onenet_apply.console import interrupted, stdout_closed
from onenet_apply.model.plan import Action, Plan, PlanFileError, Status
from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.ordering import PlanError
from onenet_apply.planning.planner import PlanOptions
from onenet_apply.planning.planner import plan as make_plan
from onenet_apply.planning.render import RENDERERS, only_blocked, render_text
from onenet_apply.savedplan import spec_check
from onenet_apply.savedplan.plan_file import REMAKE, SavedPlan, is_saved_plan, read_saved_plan
from onenet_apply.savedplan.plan_file import render as render_saved
from onenet_apply.savedplan.saved_check import StalePlanError
from onenet_apply.sitefile.importer import failed_note, render_site, site_document, unwritable
from onenet_apply.sitefile.problems import Severity
from onenet_apply.sitefile.validate import Validation, validate_file

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_PENDING, EXIT_BLOCKED = 0, 1, 2, 3, 4
BLOCKED_ONLY = "Only blocked items remain: a human must act on them first (see their reasons)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="onenet")
def cli() -> None:
    """Config-as-code for Vodafone One Net Business sites."""


@cli.command()
@click.argument("site_files", nargs=-1, required=True, metavar="SITE_FILE...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints every problem as one JSON list on stdout.",
)
def validate(site_files: tuple[str, ...], fmt: str) -> None:
    """Check site files offline: every problem of every file, with FILE:LINE:COL."""
    results = [validate_file(path) for path in site_files]
    failed = [r for r in results if not r.ok]
    if fmt == "json":
        problems = [p for r in results for p in r.problems]
        click.echo(json.dumps([p.to_json() for p in problems], indent=2, ensure_ascii=False))
    else:
        report_problems(results)
        for result in results:
            if result.spec is not None:
                click.echo(
                    f"{result.path}: site {result.spec.site.id} is valid: {result.spec.summary()}"
                )
    sys.exit(EXIT_ERROR if failed else EXIT_OK)


def report_problems(results: list[Validation]) -> None:
    """Problems to stderr, coloured on a terminal, with a closing count if any failed."""
    for result in results:
        for problem in result.problems:
            colour = "yellow" if problem.severity is Severity.WARNING else "red"
            click.secho(problem.format(), fg=colour, err=True)
        if result.dropped:
            click.echo(f"{result.path}: ... and {result.dropped} more problems", err=True)
    failed = [r for r in results if not r.ok]
    if failed:
        errors = sum(1 for r in results for p in r.problems if p.severity is Severity.ERROR)
        errors += sum(r.dropped for r in results)
        click.echo(
            f"{errors} error{'s' if errors != 1 else ''} in {len(failed)} of "
            f"{len(results)} file{'s' if len(results) != 1 else ''}",
            err=True,
        )


@cli.command("plan")
@click.argument("site_file", metavar="SITE_FILE")
@backend_option
@click.option(
    "--out",
    "out",
    type=OUT_FILE,
    metavar="PLAN_FILE",
    help="Save the plan as JSON, for `onenet apply PLAN_FILE`.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="How to print the plan on stdout.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes, 4 when only blocked items (for a human) "
    "remain, 0 when it has none.",
)
@click.option("--allow-delete", is_flag=True, help="Plan deletions as ready, not gated.")
@click.option("--force", is_flag=True, help="Lift the policy.max_change_percent gate.")
def plan_command(
    site_file: str,
    backend: str | None,
    out: str | None,
    fmt: str,
    detailed_exitcode: bool,
    allow_delete: bool,
    force: bool,
) -> None:
    """Show what applying SITE_FILE would change, in the order it would run."""
    why = unwritable_target(out) if out is not None else None
    if why is not None:  # before planning: never a whole plan, then the error
        raise click.ClickException(why)
    if out is not None and os.path.lexists(out) and not is_saved_plan(out):
        raise click.ClickException(
            f"{out} exists and is not a saved plan; plan --out replaces only a saved plan, "
            "never another file"
        )
    site_backend = open_backend(backend)
    try:
        catalogue = site_backend.catalogue()
        result = validate_file(site_file, catalogue)
        if not result.ok:
            report_problems([result])
            sys.exit(EXIT_ERROR)
        report_problems([result])  # warnings
        state = site_backend.read_state(result.spec.site.id)
    finally:
        site_backend.close()
    options = PlanOptions(allow_delete, force)
    try:
        the_plan = make_plan(result.spec, state, options, catalogue=catalogue)
    except PlanError as e:
        raise click.ClickException(str(e)) from None
    # the saved-plan document: what --out writes and --format json prints
    saved = render_saved(the_plan, result.spec, options) if out or fmt == "json" else ""
    if fmt == "text":
        # colour only on a terminal (click strips it elsewhere), and never with NO_COLOR
        style = click.style if not os.environ.get("NO_COLOR") else (lambda text, **_: text)
        click.echo(render_text(the_plan, style), nl=False)
    else:
        click.echo(saved if fmt == "json" else RENDERERS[fmt](the_plan), nl=False)
    if out:
        write_file_atomically(out, saved)
        click.echo(f"Saved the plan to {out}; apply it with: onenet apply {out}", err=True)
    sys.exit(_plan_exit_code(the_plan) if detailed_exitcode else EXIT_OK)


def _plan_exit_code(the_plan: Plan) -> int:
    """0 nothing to do, 2 changes to make, 4 nothing the tool can do: a human must act."""
    if the_plan.empty:
        return EXIT_OK
    return EXIT_BLOCKED if only_blocked(the_plan) else EXIT_CHANGES


@cli.command("apply")
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
    "onenet-credentials-SITE-TIME.csv in the current directory. Refused where git "
    "would pick it up (in a work tree, not ignored).",
)
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
def apply_command(
    source: str,
    backend: str | None,
    yes: bool,
    allow_delete: bool,
    force: bool,
    credentials_out: str | None,
    wait_activation: float,
    lock_timeout: float,
) -> None:
    """Carry out a site file's plan (or a saved plan) against the backend."""
    saved = _read_saved_plan(source)
    if saved is not None and (allow_delete or force):
        raise click.ClickException(
            "--allow-delete and --force go with a site file; a saved plan keeps the options "
            "it was made with (make it again with onenet plan --allow-delete/--force --out)"
        )
    site_backend = open_backend(backend, create=saved is None)  # a plan needs its site

    def approve(the_plan: Plan) -> bool:
        """Show the plan made under the lock; ask for it on a terminal."""
        click.echo(render_text(the_plan, click.style), nl=False)
        if the_plan.gated:
            raise GatedError(the_plan.gated)
        if not the_plan.ready:
            return bool(wait_activation)
        if sink is not None and any(a.issues_login_details for a in the_plan.ready):
            sink.check_place()  # refused here, before anything is applied
        _confirm(yes, len(the_plan.ready))
        return True

    sink: CredentialsSink | None = None
    try:
        spec = (
            _valid_spec(source, site_backend)
            if saved is None
            else _valid_saved(source, saved, site_backend)
        )
        site = spec.site.id
        try:
            sink = CredentialsSink(site, credentials_out)
        except CredentialsFileError as e:
            raise click.ClickException(str(e)) from None
        with sink:
            progress = ApplyProgress(sys.stderr.isatty())
            if saved is None:
                report = apply_site(
                    site_backend,
                    spec,
                    PlanOptions(allow_delete, force),
                    sink,
                    lock_timeout=lock_timeout,
                    wait_activation=wait_activation,
                    progress=progress,
                    approve=approve,
                )
            else:
                report = apply_saved(
                    site_backend,
                    saved,
                    sink,
                    lock_timeout=lock_timeout,
                    progress=progress,
                    approve=approve,
                )
                _note_unreviewed(report)
    except (GatedError, StalePlanError, PlanError) as e:
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
    sys.exit(_summarise(report, sink))


@cli.command("import")
@click.option("--site", "site", required=True, metavar="SITE_ID", help="Site id.")
@backend_option
@click.option(
    "--out",
    "out",
    type=OUT_FILE,
    metavar="SITE_FILE",
    help="Write the site file here (must not exist); default: stdout.",
)
@click.option("--name", default=None, help="The site's display name (default: its id).")
@click.option(
    "--country",
    default=None,
    metavar="CC",
    help="Region for national numbers (default: from the site's numbers).",
)
def import_command(
    site: str, backend: str | None, out: str | None, name: str | None, country: str | None
) -> None:
    """Write a backend's current site as a site file that plans to no changes."""
    platform = open_backend(backend)
    try:
        state = platform.read_state(site)
        catalogue = platform.catalogue()
    finally:
        platform.close()
    if not state.exists:
        raise click.ClickException(f"no site {site} on {backend_url(backend)}")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    text = render_site(
        site_document(state, name, country),
        "\n".join(
            filter(
                None,
                [
                    f"Imported by onenet import from {backend_url(backend)}, site {site}, "
                    f"at {stamp}.",
                    failed_note(state),
                ],
            )
        ),
    )
    if out is not None and os.path.exists(out):
        raise click.ClickException(f"{out} exists; import never overwrites a site file")
    why = unwritable_target(out) if out is not None else None
    if why is not None:
        raise click.ClickException(why)
    why = unwritable(text, catalogue)
    if why is not None:
        raise click.ClickException(
            f"site {site} on {backend_url(backend)} cannot be imported: stored records would "
            f"not pass onenet validate, so nothing was written: {why}"
        )
    if out is None:
        click.echo(text, nl=False)
        return
    write_file_atomically(out, text)
    click.echo(f"Wrote site {site} to {out} ({len(state.users)} users).", err=True)


def _read_saved_plan(source: str) -> SavedPlan | None:
    """A file that starts like a saved plan is one, whatever its name; anything else
    is read as a site file (a site file in JSON syntax included)."""
    if not is_saved_plan(source):
        return None
    try:
        return read_saved_plan(source)
    except PlanFileError as e:
        raise click.ClickException(str(e)) from None


def _valid_saved(source: str, saved: SavedPlan, backend: Backend) -> SiteSpec:
    """The saved plan's site content, valid as a site file on this backend."""
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


def write_file_atomically(path: str, text: str) -> None:
    """Write a plan or site file whole: a reader never sees half of one."""
    target = os.path.abspath(path)
    try:
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".onenet-")
    except OSError as e:
        raise click.ClickException(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(e, OSError):
            raise click.ClickException(f"cannot write {path}: {e.strerror}") from None
        raise


cli.add_command(sandbox)
cli.add_command(credentials)


def main() -> None:
    """Run the command line: click's usage errors exit 1 (2 means 'changes found'),
    Ctrl-C exits 130 and a closed stdout exits quietly, never with a traceback."""
    try:
        try:
            code = cli.main(standalone_mode=False)
        finally:
            sys.stdout.flush()  # a closed pipe fails here, inside the guard, not at exit
    except click.exceptions.Abort as e:
        if isinstance(e.__context__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            interrupted()
        click.echo("Aborted.", err=True)
        code = EXIT_ERROR
    except KeyboardInterrupt:
        interrupted()
    except click.ClickException as e:
        e.show()
        code = EXIT_ERROR
    except BackendError as e:  # expected: refused, locked, unreachable, corrupt ...
        click.echo(f"Error: {e}", err=True)
        code = EXIT_ERROR
    except BrokenPipeError:
        stdout_closed()
    sys.exit(code or 0)
