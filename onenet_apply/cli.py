"""The `onenet` command line: parse options, call the core, map outcomes to exit codes.

Exit codes (DESIGN.md): 0 success or nothing to change; 1 error (bad input,
refusal, usage error); 2 `plan --detailed-exitcode` found changes; 3 `apply`
left deferred or blocked work. Usage errors exit 1, never 2, so CI cannot take
a mistyped command for "changes found".
"""

from __future__ import annotations

import json
import sys

import click

from onenet_apply import __version__
from onenet_apply.backends.base import BackendError
from onenet_apply.cli_sandbox import sandbox
from onenet_apply.problems import Problem, Severity
from onenet_apply.validate import validate_file

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_PENDING = 0, 1, 2, 3


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
    problems: list[Problem] = [p for r in results for p in r.problems]
    failed = [r for r in results if not r.ok]
    if fmt == "json":
        click.echo(json.dumps([p.to_json() for p in problems], indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            colour = "yellow" if problem.severity is Severity.WARNING else "red"
            click.echo(click.style(problem.format(), fg=colour), err=True)
        for result in results:
            if result.dropped:
                click.echo(f"{result.path}: ... and {result.dropped} more problems", err=True)
            if result.spec is not None:
                click.echo(
                    f"{result.path}: site {result.spec.site.id} is valid: {result.spec.summary()}"
                )
        if failed:
            errors = sum(1 for p in problems if p.severity is Severity.ERROR) + sum(
                r.dropped for r in results
            )
            click.echo(
                f"{errors} error{'s' if errors != 1 else ''} in {len(failed)} of "
                f"{len(results)} file{'s' if len(results) != 1 else ''}",
                err=True,
            )
    sys.exit(EXIT_ERROR if failed else EXIT_OK)


cli.add_command(sandbox)


def main() -> None:
    """Console entry point: click's usage errors exit 1 (2 means 'changes found')."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Exit as e:
        code = e.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = EXIT_ERROR
    except click.ClickException as e:
        e.show()
        code = EXIT_ERROR
    except BackendError as e:  # expected: refused, locked, unreachable, corrupt ...
        click.echo(f"Error: {e}", err=True)
        code = EXIT_ERROR
    except BrokenPipeError:
        code = EXIT_ERROR
    sys.exit(code or 0)
