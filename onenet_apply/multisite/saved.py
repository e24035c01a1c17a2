"""A saved plan of several sites (format 3): each site's own saved plan (format 2,
with its own digests) under `sites`, so one tampered or stale site is refused
alone. Files of one site (format 2) read as a run of one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onenet_apply.model.plan import PlanFileError
from onenet_apply.multisite.outcome import shared_sites
from onenet_apply.multisite.report import FORMAT_VERSION
from onenet_apply.savedplan.plan_file import SavedPlan, saved_from_document


@dataclass(frozen=True, slots=True)
class SavedSite:
    """One site of a saved plan: its plan, or why it cannot be applied."""

    file: str  # the site file it was planned from ("" in a plan of one site)
    site: str | None
    saved: SavedPlan | None
    error: str | None = None


def is_multi_site(document: Any) -> bool:
    return isinstance(document, dict) and document.get("format_version") == FORMAT_VERSION


def read_sites(path: str, document: Any) -> list[SavedSite]:
    """Every site of a format-3 document, each checked on its own."""
    entries = document.get("sites")
    if not isinstance(entries, list) or not entries:
        raise PlanFileError(f'{path}: a saved plan of several sites holds a list of "sites"')
    return one_file_per_site([_site(path, index, entry) for index, entry in enumerate(entries)])


def one_file_per_site(sites: list[SavedSite]) -> list[SavedSite]:
    """Each site of a site id that two files hold refused, both: the plan saved the
    first as planned (its run could not know of the second yet), and which of the
    two is right is for a human to say, as `onenet apply DIR` has it."""
    shared = shared_sites((s.site, s.file) for s in sites)
    return [
        SavedSite(s.file, s.site, None, shared[s.site]) if s.site in shared else s for s in sites
    ]


def _site(path: str, index: int, entry: Any) -> SavedSite:
    if not isinstance(entry, dict):
        raise PlanFileError(f"{path}: sites[{index}] is not a site's plan")
    file, site = str(entry.get("file") or ""), entry.get("id")
    site = site if isinstance(site, str) else None
    if "plan" not in entry:  # planned with an error: nothing reviewed to apply
        return SavedSite(
            file, site, None, f"site {site or file} was not planned: {entry.get('error')}"
        )
    try:
        saved = saved_from_document(entry["plan"], f"{path} (site {site or file})")
    except PlanFileError as e:
        return SavedSite(file, site, None, str(e))
    return SavedSite(file, saved.plan.site, saved)


def stale_or_tampered(backend: Any, saved: SavedPlan) -> str | None:
    """Why `saved` would be refused now (stale or tampered), or None: the check apply
    makes under the lock, made beforehand for --all-or-nothing."""
    from onenet_apply.backends.base import address_site
    from onenet_apply.planning.planner import plan
    from onenet_apply.savedplan import spec_check
    from onenet_apply.savedplan.saved_check import StalePlanError, runnable

    catalogue = backend.catalogue()
    why = spec_check.problem(saved.spec, catalogue)
    if why is not None:
        return f"the plan's site content is not a valid site here: {why}"
    address_site(backend, saved.spec.site.id, saved.spec.site.platform_id)
    state = backend.read_state(saved.plan.site)
    current = plan(saved.spec, state, saved.options, catalogue=catalogue)
    try:
        runnable(saved.plan, current, state)
    except (StalePlanError, PlanFileError) as e:
        return str(e)
    return None
