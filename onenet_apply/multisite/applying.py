"""`onenet apply` over several sites: validated and planned in parallel first (so
every broken site is reported before anything changes), then applied in the
parent one site after another, in the given order, on one backend with one
credentials file; a site that fails is named and the others carry on.

How one site is applied (its lock, plan, prompt, credentials) is the command's
own single-site apply, handed in as `apply_one`: this module only orders the
sites and combines their outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import click

from onenet_apply.backends.errors import BackendError
from onenet_apply.multisite.outcome import ERROR, SiteResult, shared_sites
from onenet_apply.multisite.planning import PlanTask, plan_site
from onenet_apply.multisite.report import report_problems
from onenet_apply.multisite.runner import ordered_map
from onenet_apply.multisite.saved import SavedSite
from onenet_apply.planning.draft import PlanOptions

EXIT_OK, EXIT_ERROR, EXIT_PENDING, EXIT_BLOCKED = 0, 1, 3, 4
WORDS = {EXIT_OK: "done", EXIT_PENDING: "with deferred work", EXIT_BLOCKED: "needing a human"}


def preview(
    files: list[str], backend: str | None, options: PlanOptions, jobs: int
) -> list[SiteResult]:
    """Every site validated and planned (read-only, in parallel); two files of one
    site are both errors: which of them is right is for a human to say."""
    tasks = [PlanTask(path, backend, options, ()) for path in files]
    results = list(ordered_map(plan_site, tasks, jobs))
    shared = shared_sites((r.claimed_site, r.file) for r in results)
    return [r.failed(shared[r.claimed_site]) if r.claimed_site in shared else r for r in results]


def apply_sites(results: list[SiteResult], apply_one: Callable[[SiteResult], int]) -> int:
    """Apply each previewed site in order, once every broken one is reported (before
    anything changes, and before any site's prompt); the combined exit code."""
    codes: dict[int, int] = {}
    broken_first = sorted(range(len(results)), key=lambda i: results[i].outcome != ERROR)
    for index in broken_first:  # a stable sort: each part keeps the given order
        result = results[index]
        click.echo(f"== {_name(result.site, result.file)} ==")
        report_problems(result)  # a broken site's problems, another's warnings
        broken = result.outcome == ERROR
        codes[index] = EXIT_ERROR if broken else _guarded(lambda r=result: apply_one(r))
    return combine((_name(r.site, r.file), codes[i]) for i, r in enumerate(results))


def apply_saved_sites(
    sites: list[SavedSite],
    apply_one: Callable[[SavedSite], int],
    precheck: Callable[[SavedSite], str | None] | None,
) -> int:
    """Apply each site of a saved plan in order. A tampered site is refused alone;
    with `precheck` (--all-or-nothing), any site stale or tampered now refuses the
    whole plan before anything changes."""
    refused = [(s, s.error or (precheck(s) if precheck else None)) for s in sites]
    refused = [(s, why) for s, why in refused if why is not None]
    if precheck is not None and refused:
        for site, why in refused:
            click.secho(f"Error: {_name(site.site, site.file)}: {why}", fg="red", err=True)
        count = len(refused)
        click.echo(
            f"--all-or-nothing: {count} of {len(sites)} sites cannot be applied as planned; "
            "nothing was applied",
            err=True,
        )
        return EXIT_ERROR
    codes: list[tuple[str, int]] = []
    for site in sites:
        name = _name(site.site, site.file)
        click.echo(f"== {name} ==")
        if site.error is not None:
            click.secho(f"Error: {site.error}", fg="red", err=True)
            codes.append((name, EXIT_ERROR))
            continue
        codes.append((name, _guarded(lambda s=site: apply_one(s))))
    return combine(codes)


def combine(codes: Iterable[tuple[str, int]]) -> int:
    """Print the grand summary; any error 1, else 3 if deferred work is left, else 4
    if blocked work is, else 0."""
    codes = list(codes)
    counts = Counter(code for _, code in codes)
    failed = [name for name, code in codes if code == EXIT_ERROR]
    parts = [f"{counts[c]} {WORDS[c]}" for c in (EXIT_OK, EXIT_PENDING, EXIT_BLOCKED) if counts[c]]
    if failed:
        parts.append(f"{len(failed)} failed ({', '.join(failed)})")
    click.echo(f"{len(codes)} sites: {', '.join(parts)}")
    for code in (EXIT_ERROR, EXIT_PENDING, EXIT_BLOCKED):
        if counts[code]:
            return code
    return EXIT_OK


def _guarded(apply: Callable[[], int]) -> int:
    """One site's apply; its error is reported, and the run goes on with the next."""
    try:
        return apply()
    except click.ClickException as e:
        e.show()
    except BackendError as e:
        click.echo(f"Error: {e}", err=True)
    except SystemExit as e:  # the single-site apply's own ending (an invalid file)
        return e.code if isinstance(e.code, int) else EXIT_ERROR
    return EXIT_ERROR


def _name(site: str | None, file: str) -> str:
    if site is None:
        return file
    return f"site {site} ({file})" if file else f"site {site}"
