"""`onenet plan`: what applying a site file would change, in order; saved with --out."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from onenet_apply.backends import open_backend
from onenet_apply.cli.completion import complete_site_files
from onenet_apply.cli.exits import (
    EXIT_BLOCKED,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
)
from onenet_apply.cli.option_types import OUT_FILE, unwritable_target
from onenet_apply.cli.options import (
    backend_option,
    format_option,
    jobs_option,
    jobs_or_cores,
    site_paths,
    target_option,
)
from onenet_apply.cli.validate import report_problems

if TYPE_CHECKING:
    from onenet_apply.model.plan import Plan, Target
    from onenet_apply.model.spec import SiteSpec
    from onenet_apply.planning.draft import PlanOptions


@click.command("plan")
@click.argument(
    "paths", nargs=-1, required=True, metavar="PATH...", shell_complete=complete_site_files
)
@backend_option
@click.option(
    "--out",
    "out",
    type=OUT_FILE,
    metavar="PLAN_FILE",
    help="Save the plan as JSON, for `onenet apply PLAN_FILE`.",
)
@format_option("How to print the plan on stdout.", "json", "markdown")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes, 4 when only blocked items (for a human) "
    "remain, 0 when it has none.",
)
@click.option("--allow-delete", is_flag=True, help="Plan deletions as ready, not gated.")
@click.option("--force", is_flag=True, help="Lift the policy.max_change_percent gate.")
@target_option
@jobs_option
def plan_command(
    paths: tuple[str, ...],
    backend: str | None,
    out: str | None,
    fmt: str,
    detailed_exitcode: bool,
    allow_delete: bool,
    force: bool,
    targets: tuple[Target, ...],
    jobs: int | None,
) -> None:
    """Show what applying the site files would change, in the order it would run.

    PATH is a site file, or a directory: the *.yaml and *.yml files directly in it.
    Several sites are planned at once (--jobs), each in a section of its own."""
    # the stages, loaded when the command runs (see cli/validate.py)
    from onenet_apply.backends.base import address_site
    from onenet_apply.planning.ordering import PlanError
    from onenet_apply.planning.planner import PlanOptions
    from onenet_apply.planning.planner import plan as make_plan
    from onenet_apply.planning.render import RENDERERS, render_text_chunks
    from onenet_apply.sitefile.validate import validate_file

    if out is not None:  # before planning: never a whole plan, then the error
        _check_out(out)
    files = site_paths(paths)
    if len(files) > 1:
        from onenet_apply.multisite.plans import plan_sites

        open_backend(backend).close()  # a missing sandbox: one error, not one per site
        options = PlanOptions(allow_delete, force, targets)
        sys.exit(
            plan_sites(files, backend, options, fmt, out, detailed_exitcode, jobs_or_cores(jobs))
        )
    site_file = files[0]
    site_backend = open_backend(backend)
    try:
        catalogue = site_backend.catalogue()
        result = validate_file(site_file, catalogue)
        if not result.ok:
            report_problems([result])
            sys.exit(EXIT_ERROR)
        report_problems([result])  # warnings
        address_site(site_backend, result.spec.site.id, result.spec.site.platform_id)
        state = site_backend.read_state(result.spec.site.id)
    finally:
        site_backend.close()
    options = PlanOptions(allow_delete, force, targets)
    try:
        the_plan = make_plan(result.spec, state, options, catalogue=catalogue)
    except PlanError as e:
        raise click.ClickException(str(e)) from None
    # the saved-plan document: what --out writes and --format json prints
    saved = _saved_document(the_plan, result.spec, options) if out or fmt == "json" else ""
    if fmt == "text":
        # colour only on a terminal (click strips it elsewhere), and never with NO_COLOR
        style = click.style if not os.environ.get("NO_COLOR") else (lambda text, **_: text)
        for chunk in render_text_chunks(the_plan, style):
            click.echo(chunk, nl=False)
    else:
        click.echo(saved if fmt == "json" else RENDERERS[fmt](the_plan), nl=False)
    if out:
        from onenet_apply.cli.output import write_file_atomically

        write_file_atomically(out, saved)
        click.echo(f"Saved the plan to {out}; apply it with: onenet apply {out}", err=True)
    sys.exit(_plan_exit_code(the_plan) if detailed_exitcode else EXIT_OK)


def _check_out(out: str) -> None:
    """--out must be a file that can be written, and replaces only a saved plan."""
    from onenet_apply.savedplan.recognition import is_saved_plan

    why = unwritable_target(out)
    if why is not None:
        raise click.ClickException(why)
    if os.path.lexists(out) and not is_saved_plan(out):
        raise click.ClickException(
            f"{out} exists and is not a saved plan; plan --out replaces only a saved plan, "
            "never another file"
        )


def _saved_document(the_plan: Plan, spec: SiteSpec, options: PlanOptions) -> str:
    """The saved plan's JSON (loaded only for --out and --format json)."""
    from onenet_apply.savedplan.plan_file import render

    return render(the_plan, spec, options)


def _plan_exit_code(the_plan: Plan) -> int:
    """0 nothing to do, 2 changes to make, 4 nothing the tool can do: a human must act."""
    from onenet_apply.planning.render import only_blocked

    if the_plan.empty:
        return EXIT_OK
    return EXIT_BLOCKED if only_blocked(the_plan) else EXIT_CHANGES
