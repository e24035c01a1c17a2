"""The report of a run over many sites: a section per site as its result arrives,
then a grand summary, in text, Markdown or JSON; and the one exit code they make."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import click

from onenet_apply.multisite.outcome import (
    CHANGES,
    ERROR,
    IN_SYNC,
    NEEDS_HUMAN,
    OUTCOMES,
    SiteResult,
)

FORMAT_VERSION = 3  # a saved plan of several sites: each site's own plan inside
WORDS = {IN_SYNC: "in sync", CHANGES: "with changes", NEEDS_HUMAN: "needing a human"}
EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BLOCKED = 0, 1, 2, 4


def summary_line(counts: Counter[str], total: int) -> str:
    """`3 sites: 1 in sync, 1 with changes, 1 error` (outcomes that occur, in order)."""
    parts = [
        f"{counts[o]} {WORDS.get(o) or ('error' if counts[o] == 1 else 'errors')}"
        for o in OUTCOMES
        if counts[o]
    ]
    return f"{total} site{'s' if total != 1 else ''}: {', '.join(parts) or 'none'}"


def plan_exit_code(counts: Counter[str], detailed: bool) -> int:
    """Any error 1; with --detailed-exitcode, any change 2, else only blocked items 4."""
    if counts[ERROR]:
        return EXIT_ERROR
    if not detailed:
        return EXIT_OK
    if counts[CHANGES]:
        return EXIT_CHANGES
    return EXIT_BLOCKED if counts[NEEDS_HUMAN] else EXIT_OK


def one_site_per_file(results: Iterable[SiteResult]) -> Iterator[SiteResult]:
    """Each result as it comes, a second file of a site already seen as an error
    naming both files."""
    seen: dict[str, str] = {}
    for result in results:
        site = result.claimed_site
        if site is not None and site in seen:
            yield result.failed(
                f"{result.file}: site {site} is also in {seen[site]}; one site, one file"
            )
            continue
        if site is not None:
            seen[site] = result.file
        yield result


def report_problems(result: SiteResult) -> None:
    """The site's problems on stderr, as `onenet validate` prints them; an error
    that is no problem of the file (the backend's, the planner's) after them."""
    for line, warning in result.problems.lines:
        click.secho(line, fg="yellow" if warning else "red", err=True)
    if result.problems.dropped_line:
        click.echo(result.problems.dropped_line, err=True)
    said = {line for line, _ in result.problems.lines}
    if result.error is not None and (not result.problems.errors or result.error not in said):
        click.secho(f"Error: {result.error}", fg="red", err=True)  # e.g. a second file of a site


class PlanReport:
    """Sections of a multi-site plan, written as each site's result arrives."""

    def __init__(self, fmt: str, writers: list[Callable[[str], None]]) -> None:
        self.fmt = fmt
        self.writers = writers  # stdout, and the --out file
        self.counts: Counter[str] = Counter()
        self.rows: list[tuple[str | None, str, str]] = []  # site, file, outcome
        self._first = True
        if fmt == "json":
            self._write(f'{{"kind": "onenet-plan", "format_version": {FORMAT_VERSION}, "sites": [')

    def add(self, result: SiteResult) -> None:
        self.counts[result.outcome] += 1
        self.rows.append((result.site, result.file, result.outcome))
        if self.fmt == "json":
            self._write(("\n  " if self._first else ",\n  ") + site_entry(result))
        elif self.fmt == "markdown":
            self._write(_markdown_section(result))
        else:
            self._write(f"== {_name(result)} ==\n{result.rendered.get('text', '')}")
        self._first = False

    def finish(self) -> None:
        total = sum(self.counts.values())
        line = summary_line(self.counts, total)
        if self.fmt == "json":
            summary = {"sites": total, **{o: self.counts[o] for o in OUTCOMES}}
            self._write(f'\n], "summary": {json.dumps(summary)}}}\n')
        elif self.fmt == "markdown":
            table = ["| site | file | outcome |", "|---|---|---|"]
            table += [f"| `{s or '?'}` | `{f}` | {WORDS.get(o, o)} |" for s, f, o in self.rows]
            self._write("\n".join([f"**{line}**", "", *table, ""]) + "\n")
        else:
            self._write(f"{line}\n")

    def _write(self, text: str) -> None:
        for write in self.writers:
            write(text)


def site_entry(result: SiteResult) -> str:
    """One site of the JSON document: id, file, outcome, and its saved plan (or errors)."""
    head: dict[str, Any] = {
        "id": result.claimed_site,  # a broken file's too: apply refuses two of one site
        "file": result.file,
        "outcome": result.outcome,
    }
    if result.outcome == ERROR:
        head |= {"error": result.error, "problems": list(result.problems.as_json)}
        return json.dumps(head, ensure_ascii=False)
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    plan = result.rendered["json"].rstrip("\n").replace("\n", "\n  ")
    return f'{opening}, "plan": {plan}}}'


def _name(result: SiteResult) -> str:
    return f"site {result.site} ({result.file})" if result.site else result.file


def _markdown_section(result: SiteResult) -> str:
    if result.outcome != ERROR:
        return f"{result.rendered['markdown']}_from `{result.file}`_\n\n"
    lines = [line for line, warning in result.problems.lines if not warning]
    body = "\n".join(lines or [result.error or ""])
    return f"### onenet plan: `{result.file}`: error\n\n```\n{body}\n```\n\n"
