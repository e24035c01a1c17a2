"""`onenet validate`: check site files offline, every problem with FILE:LINE:COL.

Like every command module, it imports the stages it calls when it runs, so
`onenet --help` and `onenet validate --help` load none of them."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from onenet_apply.cli.completion import complete_site_files
from onenet_apply.cli.options import format_option, jobs_option, jobs_or_cores, site_paths

if TYPE_CHECKING:
    from onenet_apply.sitefile.verdict import Validation


@click.command()
@click.argument(
    "paths", nargs=-1, required=True, metavar="PATH...", shell_complete=complete_site_files
)
@format_option("json prints every problem as one JSON list on stdout.")
@jobs_option
def validate(paths: tuple[str, ...], fmt: str, jobs: int | None) -> None:
    """Check site files offline: every problem of every file, with FILE:LINE:COL.

    PATH is a site file, or a directory: the *.yaml and *.yml files directly in it."""
    from onenet_apply.multisite.plans import validate_sites

    sys.exit(validate_sites(site_paths(paths), fmt, jobs_or_cores(jobs)))


def report_problems(results: list[Validation]) -> None:
    """Problems to stderr, coloured on a terminal, with a closing count if any failed."""
    from onenet_apply.sitefile.problems import Severity

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
