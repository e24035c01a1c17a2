"""`onenet apply`: carry out a site file's plan, or a reviewed saved plan."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from onenet_apply.backends import open_backend
from onenet_apply.cli.apply_report import (
    ApplyProgress,
    apply_line,
    confirm,
    credentials_note,
    site_exit,
    stopped_note,
    summarise,
    tells_where_on_interrupt,
)
from onenet_apply.cli.completion import complete_site_files
from onenet_apply.cli.confirm import yes_option
from onenet_apply.cli.exits import EXIT_ERROR
from onenet_apply.cli.option_types import OUT_FILE, SECONDS
from onenet_apply.cli.options import (
    backend_option,
    jobs_option,
    jobs_or_cores,
    site_paths,
    state_option,
    target_option,
)
from onenet_apply.cli.recipients import open_sink, read_recipients, recipient_options
from onenet_apply.cli.validate import report_problems

COMMAND = "onenet apply"

if TYPE_CHECKING:
    from onenet_apply.apply.applier import ApplyReport
    from onenet_apply.apply.credentials import CredentialsSink
    from onenet_apply.backends.base import Backend
    from onenet_apply.model.plan import Plan, Target
    from onenet_apply.model.spec import SiteSpec
    from onenet_apply.multisite.outcome import SiteResult
    from onenet_apply.planning.render import Style
    from onenet_apply.savedplan.plan_file import SavedPlan


@click.command("apply")
@click.argument(
    "sources",
    nargs=-1,
    required=True,
    metavar="PATH...|PLAN_FILE",
    shell_complete=complete_site_files,
)
@backend_option
@yes_option("Apply without asking (needed without a terminal).")
@click.option("--allow-delete", is_flag=True, help="Allow deletions.")
@click.option("--force", is_flag=True, help="Lift the policy.max_change_percent gate.")
@click.option(
    "--credentials-out",
    type=OUT_FILE,
    metavar="CSV_FILE",
    help="Write issued login details here (must not exist). Default: a new "
    "onenet-credentials-SITE-TIME.csv (of several sites: onenet-credentials-TIME.csv; "
    ".csv.age, encrypted to recipients) in the current directory. Refused where git "
    "would pick it up (in a work tree, not ignored).",
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
@jobs_option
@click.option(
    "--all-or-nothing",
    is_flag=True,
    help="With a saved plan of several sites: refuse it whole, before anything changes, "
    "if any site is stale or tampered (default: refuse only those).",
)
@tells_where_on_interrupt
def apply_command(
    sources: tuple[str, ...],
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
    jobs: int | None,
    all_or_nothing: bool,
) -> None:
    """Carry out the site files' plans (or a saved plan) against the backend.

    PATH is a site file, or a directory: the *.yaml and *.yml files directly in it.
    Several sites are planned at once (--jobs), then applied one after another."""
    recipients = read_recipients(recipient_keys, recipient_files, credentials_out)
    if credentials_out is not None:  # refused before the backend opens (and is created)
        open_sink(None, credentials_out, recipients).close()
    document = _saved_document(sources)
    if document is not None and (allow_delete or force):
        raise click.ClickException(
            "--allow-delete and --force go with a site file; a saved plan keeps the options "
            "it was made with (make it again with onenet plan --allow-delete/--force --out)"
        )
    if document is not None and targets:
        raise click.ClickException(
            "--target goes with a site file; a saved plan keeps the targets it was made "
            "with (make it again with onenet plan --target --out)"
        )
    run = SiteApply(yes, allow_delete, force, targets, wait_activation, lock_timeout, state)
    files = site_paths(sources) if document is None else [sources[0]]
    if document is None and len(files) > 1:
        sys.exit(_apply_site_files(run, files, backend, credentials_out, recipients, jobs))
    if document is not None and _several_sites(document):
        sys.exit(
            _apply_saved_sites(
                run, sources[0], document, backend, credentials_out, recipients, all_or_nothing
            )
        )
    source = files[0]
    saved = None if document is None else _saved_plan(source, document)
    site_backend = open_backend(backend, create=saved is None)  # a plan needs its site
    sink: CredentialsSink | None = None
    try:
        spec = (
            _valid_spec(source, site_backend)
            if saved is None
            else _valid_saved(source, saved, site_backend)
        )
        sink = open_sink(spec.site.id, credentials_out, recipients)
        with sink:
            report = run.one(site_backend, source, spec, saved, sink)
    finally:
        site_backend.close()
    sys.exit(summarise(report, sink))


@dataclass(frozen=True)
class SiteApply:
    """How each site of this run is applied: the command's options."""

    yes: bool
    allow_delete: bool
    force: bool
    targets: tuple[Target, ...]
    wait_activation: float
    lock_timeout: float
    state: str | None

    def one(
        self,
        site_backend: Backend,
        source: str,
        spec: SiteSpec,
        saved: SavedPlan | None,
        sink: CredentialsSink,
    ) -> ApplyReport:
        """Apply one site under its lock; an expected failure is a ClickException."""
        from onenet_apply.apply.applier import GatedError, apply_saved, apply_site
        from onenet_apply.apply.credentials import CredentialsFileError
        from onenet_apply.backends.base import address_site
        from onenet_apply.cli.state import SharedState, open_shared_state
        from onenet_apply.model.plan import PlanFileError
        from onenet_apply.planning.ordering import PlanError
        from onenet_apply.planning.planner import PlanOptions
        from onenet_apply.planning.render import render_text_chunks
        from onenet_apply.store.errors import StoreError

        def approve(the_plan: Plan) -> bool:
            """Show the plan made under the lock; ask for it on a terminal."""
            for chunk in render_text_chunks(the_plan, plan_style()):
                click.echo(chunk, nl=False)
            if the_plan.gated:
                raise GatedError(the_plan.gated)
            if not the_plan.ready:
                return bool(self.wait_activation)
            if any(a.issues_login_details for a in the_plan.ready):
                sink.check_place()  # refused here, before anything is applied
            confirm(self.yes, len(the_plan.ready))
            return True

        shared: SharedState | None = None
        try:
            address_site(site_backend, spec.site.id, spec.site.platform_id)
            site = spec.site.id
            shared = open_shared_state(
                self.state,
                site_backend,
                kind="apply",
                command=COMMAND,
                site_id=site,
                source_file=source,
            )
            along = {"locks": shared.locks, "ledger": shared.ledger} if shared else {}
            progress = ApplyProgress(sys.stderr.isatty())
            if saved is None:
                return apply_site(
                    site_backend,
                    spec,
                    PlanOptions(self.allow_delete, self.force, self.targets),
                    sink,
                    lock_timeout=self.lock_timeout,
                    wait_activation=self.wait_activation,
                    progress=progress,
                    approve=approve,
                    **along,
                )
            from onenet_apply.savedplan.saved_check import StalePlanError

            try:
                report = apply_saved(
                    site_backend,
                    saved,
                    sink,
                    lock_timeout=self.lock_timeout,
                    progress=progress,
                    approve=approve,
                    **along,
                )
            except StalePlanError as e:
                raise click.ClickException(str(e)) from None
            _note_unreviewed(report)
            return report
        except (GatedError, PlanError) as e:
            raise click.ClickException(str(e)) from None
        except PlanFileError as e:  # tampered: the actions disagree with the plan's own content
            raise click.ClickException(f"{source}: {e}") from None
        except CredentialsFileError as e:  # the platform committed nothing it could not record
            raise click.ClickException(
                f"{e}; actions whose login details could not be written were not applied"
            ) from None
        except KeyboardInterrupt:  # committed batches stay: say where their login details are
            stopped_note(sink, "Interrupted")
            raise
        except StoreError:  # the lock or the history lost mid-apply: the same
            stopped_note(sink, "Stopped")
            raise
        finally:
            if shared is not None:
                shared.close()


def _apply_site_files(
    run: SiteApply,
    files: list[str],
    backend: str | None,
    credentials_out: str | None,
    recipients: list[object],
    jobs: int | None,
) -> int:
    """Several site files: planned in parallel, applied one after another."""
    for file in files:  # read twice (planned, then applied): a pipe would be empty then
        if not os.path.isfile(file):
            raise click.ClickException(
                f"{file} is not a regular file: an apply of several sites reads each file "
                "twice (planned with the others first, then applied); save it to a file, "
                "or apply it alone"
            )
    from onenet_apply.model.digest import spec_digest
    from onenet_apply.multisite.applying import apply_sites, preview
    from onenet_apply.planning.planner import PlanOptions
    from onenet_apply.sitefile.validate import validate_file

    site_backend = open_backend(backend, create=True)
    try:
        results = preview(
            files,
            backend,
            PlanOptions(run.allow_delete, run.force, run.targets),
            jobs_or_cores(jobs),
        )
        with open_sink(None, credentials_out, recipients) as sink:

            def apply_one(result: SiteResult) -> int:
                """Its file read again (its problems were reported with its plan)."""
                spec = validate_file(result.file, site_backend.catalogue()).spec
                if spec is None or spec_digest(spec) != result.spec_digest:
                    raise click.ClickException(
                        f"{result.file} changed while this apply ran; apply it again"
                    )
                return _site_done(run.one(site_backend, result.file, spec, None, sink))

            code = apply_sites(results, apply_one)
            credentials_note(sink)
    finally:
        site_backend.close()
    return code


def _apply_saved_sites(
    run: SiteApply,
    source: str,
    document: object,
    backend: str | None,
    credentials_out: str | None,
    recipients: list[object],
    all_or_nothing: bool,
) -> int:
    """A saved plan of several sites: each checked and applied on its own."""
    from onenet_apply.model.plan import PlanFileError
    from onenet_apply.multisite.applying import apply_saved_sites
    from onenet_apply.multisite.saved import SavedSite, read_sites, stale_or_tampered

    try:
        sites = read_sites(source, document)
    except PlanFileError as e:
        raise click.ClickException(str(e)) from None
    site_backend = open_backend(backend)
    try:
        with open_sink(None, credentials_out, recipients) as sink:

            def apply_one(site: SavedSite) -> int:
                assert site.saved is not None
                spec = _valid_saved(source, site.saved, site_backend)
                return _site_done(run.one(site_backend, source, spec, site.saved, sink))

            def precheck(site: SavedSite) -> str | None:
                assert site.saved is not None
                return stale_or_tampered(site_backend, site.saved)

            code = apply_saved_sites(sites, apply_one, precheck if all_or_nothing else None)
            credentials_note(sink)
    finally:
        site_backend.close()
    return code


def _several_sites(document: object) -> bool:
    from onenet_apply.multisite.saved import is_multi_site  # loads the saved-plan reader

    return is_multi_site(document)


def _site_done(report: ApplyReport) -> int:
    """One site of several applied: its apply line and exit code."""
    apply_line(report)
    return site_exit(report)


def plan_style() -> Style:
    """Colours where `click.echo` keeps them (a terminal); elsewhere plain text, which
    is what echo would leave of them: a large plan is not styled only to be stripped."""
    from click.globals import resolve_color_default

    from onenet_apply.planning.render import plain_style

    if click.utils.should_strip_ansi(sys.stdout, resolve_color_default()):
        return plain_style
    return click.style


def _saved_document(sources: tuple[str, ...]) -> object | None:
    """The parsed saved plan when the one source is one, whatever its name; anything
    else is read as site files (a site file in JSON syntax included)."""
    from onenet_apply.model.plan import PlanFileError
    from onenet_apply.savedplan.recognition import is_saved_plan

    if len(sources) != 1 or not is_saved_plan(sources[0]):
        return None
    from onenet_apply.savedplan.plan_file import read_document

    try:
        return read_document(sources[0])
    except PlanFileError as e:
        raise click.ClickException(str(e)) from None


def _saved_plan(source: str, document: object) -> SavedPlan:
    from onenet_apply.model.plan import PlanFileError
    from onenet_apply.savedplan.plan_file import saved_from_document

    try:
        return saved_from_document(document, source)
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
