"""What a worker does for one site: validate it and plan it against its own
backend connection, returning a `SiteResult` (never raising for the site's own
problems, so one broken site does not stop the others)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from onenet_apply.backends import open_backend
from onenet_apply.backends.errors import BackendError
from onenet_apply.multisite.checking import first_error, problems_of
from onenet_apply.multisite.outcome import (
    CHANGES,
    ERROR,
    IN_SYNC,
    NEEDS_HUMAN,
    Problems,
    SiteResult,
)
from onenet_apply.planning.draft import PlanOptions
from onenet_apply.sitefile.validate import validate_file

if TYPE_CHECKING:
    from onenet_apply.backends.base import Backend
    from onenet_apply.model.plan import Plan
    from onenet_apply.model.spec import SiteSpec


@dataclass(frozen=True, slots=True)
class PlanTask:
    path: str
    backend: str | None
    options: PlanOptions
    formats: tuple[str, ...]  # of text, markdown and json (the saved-plan document)
    colour: bool = False


def plan_site(task: PlanTask) -> SiteResult:
    """`onenet plan` of one site file: its outcome and its plan rendered."""
    try:
        backend = open_backend(task.backend)
    except BackendError as e:
        return SiteResult(task.path, None, ERROR, error=str(e))
    try:
        return _plan_on(backend, task)
    finally:
        backend.close()


def _plan_on(backend: Backend, task: PlanTask) -> SiteResult:
    from onenet_apply.backends.base import address_site
    from onenet_apply.model.digest import spec_digest
    from onenet_apply.planning.ordering import PlanError
    from onenet_apply.planning.planner import plan as make_plan

    problems, site = Problems(), None
    try:
        catalogue = backend.catalogue()
        result = validate_file(task.path, catalogue)
        problems = problems_of(result)
        if result.spec is None:
            error = first_error(problems)
            return SiteResult(task.path, None, ERROR, problems, error, named_site=result.named_site)
        spec = result.spec
        site = spec.site.id
        address_site(backend, site, spec.site.platform_id)
        state = backend.read_state(site)
        the_plan = make_plan(spec, state, task.options, catalogue=catalogue)
    except (BackendError, PlanError) as e:
        return SiteResult(task.path, site, ERROR, problems, str(e))
    return SiteResult(
        task.path,
        site,
        outcome_of(the_plan),
        problems,
        rendered={fmt: _render(the_plan, spec, task, fmt) for fmt in task.formats},
        counts=the_plan.counts(),
        spec_digest=spec_digest(spec),
    )


def outcome_of(the_plan: Plan) -> str:
    """in_sync, changes, or needs_human (nothing but blocked items: a human must act)."""
    from onenet_apply.planning.render import only_blocked

    if the_plan.empty:
        return IN_SYNC
    return NEEDS_HUMAN if only_blocked(the_plan) else CHANGES


def _render(the_plan: Plan, spec: SiteSpec, task: PlanTask, fmt: str) -> str:
    from onenet_apply.planning.render import render_markdown, render_text

    if fmt == "json":
        from onenet_apply.savedplan.plan_file import render

        return render(the_plan, spec, task.options)
    if fmt == "markdown":
        return render_markdown(the_plan)
    if task.colour and not os.environ.get("NO_COLOR"):
        import click

        return render_text(the_plan, click.style)
    return render_text(the_plan)
