"""`onenet plan` and `onenet validate` over several site files: each site in a
worker process, its section printed as it arrives, a grand summary, one exit code."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import click

from onenet_apply.multisite.checking import validate_site
from onenet_apply.multisite.outcome import ERROR
from onenet_apply.multisite.report import (
    PlanReport,
    one_site_per_file,
    plan_exit_code,
    report_problems,
)
from onenet_apply.multisite.runner import ordered_map

if TYPE_CHECKING:
    from onenet_apply.planning.draft import PlanOptions

Write = Callable[[str], None]


def plan_sites(
    files: list[str],
    backend: str | None,
    options: PlanOptions,
    fmt: str,
    out: str | None,
    detailed: bool,
    jobs: int,
) -> int:
    """Plan every site; print (and with `out`, save as JSON) the report; the exit code."""
    from onenet_apply.multisite.planning import PlanTask, plan_site

    formats = tuple(dict.fromkeys([fmt, *(["json"] if out else [])]))
    colour = fmt == "text" and sys.stdout.isatty()
    tasks = [PlanTask(path, backend, options, formats, colour) for path in files]
    with saving(out) as save:
        reports = [PlanReport(fmt, [_stdout])]
        if save is not None:
            reports.append(PlanReport("json", [save]))
        for result in one_site_per_file(ordered_map(plan_site, tasks, jobs)):
            for report in reports:
                report.add(result)
            report_problems(result)  # under its section's header, in a log of both streams
        for report in reports:
            report.finish()
    if out is not None:
        click.echo(f"Saved the plans to {out}; apply them with: onenet apply {out}", err=True)
    return plan_exit_code(reports[0].counts, detailed)


def validate_sites(files: list[str], fmt: str, jobs: int) -> int:
    """`onenet validate` of several files, as of one: problems on stderr (json: one
    list on stdout) with their closing count, each valid site's line on stdout."""
    counts: Counter[str] = Counter()
    errors = 0
    problems: list[dict[str, object]] = []
    for result in one_site_per_file(ordered_map(validate_site, files, jobs)):
        counts[result.outcome] += 1
        if fmt == "json":
            problems += result.problems.as_json
            if result.outcome == ERROR and not result.problems.errors:
                problems.append({"file": result.file, "severity": "error", "message": result.error})
            continue
        report_problems(result)
        errors += result.problems.errors or int(result.outcome == ERROR)
        if result.outcome != ERROR:
            click.echo(result.rendered["text"])
    if fmt == "json":
        import json

        click.echo(json.dumps(problems, indent=2, ensure_ascii=False))
    elif counts[ERROR]:
        click.echo(
            f"{errors} error{'s' if errors != 1 else ''} in {counts[ERROR]} of "
            f"{len(files)} file{'s' if len(files) != 1 else ''}",
            err=True,
        )  # with the problems it counts
    return 1 if counts[ERROR] else 0


def _stdout(text: str) -> None:
    click.echo(text, nl=False)


@contextlib.contextmanager
def saving(out: str | None) -> Iterator[Write | None]:
    """A writer into `out`, renamed into place whole when the run ends."""
    if out is None:
        yield None
        return
    from onenet_apply.cli.output import writing_atomically

    with writing_atomically(out) as f:
        yield f.write
