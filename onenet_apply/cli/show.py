"""`onenet show PLAN_FILE`: a saved plan rendered again, without a backend.

Read-only: the file's digests are checked (a tampered plan is one error, exit 1)
and its plan printed as `onenet plan` printed it, in any format."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from onenet_apply.cli.exits import EXIT_ERROR, EXIT_OK
from onenet_apply.cli.options import format_option

if TYPE_CHECKING:
    from onenet_apply.multisite.outcome import SiteResult
    from onenet_apply.multisite.saved import SavedSite
    from onenet_apply.savedplan.plan_file import SavedPlan


@click.command("show")
@click.argument("plan_file", metavar="PLAN_FILE")
@format_option("How to print the plan on stdout.", "json", "markdown")
def show_command(plan_file: str, fmt: str) -> None:
    """Print a saved plan (onenet plan --out) again, without a backend."""
    from onenet_apply.model.plan import PlanFileError
    from onenet_apply.multisite.saved import is_multi_site, read_sites
    from onenet_apply.savedplan.plan_file import read_document, saved_from_document
    from onenet_apply.savedplan.recognition import is_saved_plan

    if not is_saved_plan(plan_file):
        if not os.path.lexists(plan_file):
            raise click.ClickException(f"cannot read {plan_file}: no such file")
        raise click.ClickException(f"{plan_file} is not a saved onenet plan (onenet plan --out)")
    try:
        document = read_document(plan_file)
        if not is_multi_site(document):
            click.echo(render(saved_from_document(document, plan_file), fmt), nl=False)
            sys.exit(EXIT_OK)
        sites = read_sites(plan_file, document)
    except PlanFileError as e:
        raise click.ClickException(str(e)) from None
    from onenet_apply.multisite.report import PlanReport, report_problems

    report = PlanReport(fmt, [lambda text: click.echo(text, nl=False)])
    for site in sites:
        result = _result(site, fmt)
        report_problems(result)
        report.add(result)
    report.finish()
    sys.exit(EXIT_ERROR if any(s.saved is None for s in sites) else EXIT_OK)


def render(saved: SavedPlan, fmt: str) -> str:
    """The plan as `onenet plan --format FMT` printed it."""
    from onenet_apply.planning.render import render_markdown, render_text
    from onenet_apply.savedplan.plan_file import render as render_json

    if fmt == "json":
        return render_json(saved.plan, saved.spec, saved.options)
    if fmt == "markdown":
        return render_markdown(saved.plan)
    return render_text(saved.plan, click.style)


def _result(site: SavedSite, fmt: str) -> SiteResult:
    from onenet_apply.multisite.outcome import ERROR, SiteResult
    from onenet_apply.multisite.planning import outcome_of

    if site.saved is None:
        return SiteResult(site.file, site.site, ERROR, error=site.error)
    return SiteResult(
        site.file,
        site.site,
        outcome_of(site.saved.plan),
        rendered={fmt: render(site.saved, fmt)},
        counts=site.saved.plan.counts(),
    )
