"""What a worker does for one site `onenet validate` is given: validate it offline
into a `SiteResult`, its problems formatted as one site's validate prints them."""

from __future__ import annotations

from onenet_apply.multisite.outcome import ERROR, VALID, Problems, SiteResult
from onenet_apply.sitefile.validate import validate_file
from onenet_apply.sitefile.verdict import Validation


def problems_of(result: Validation) -> Problems:
    """The site's problems, formatted once in the worker."""
    from onenet_apply.sitefile.problems import Severity

    lines = tuple((p.format(), p.severity is Severity.WARNING) for p in result.problems)
    errors = sum(1 for p in result.problems if p.severity is Severity.ERROR) + result.dropped
    dropped = f"{result.path}: ... and {result.dropped} more problems" if result.dropped else None
    return Problems(lines, tuple(p.to_json() for p in result.problems), errors, dropped)


def validate_site(path: str) -> SiteResult:
    """`onenet validate` of one site file, offline."""
    result = validate_file(path)
    problems = problems_of(result)
    valid = result.valid
    if valid is None:
        error = first_error(problems)
        return SiteResult(path, None, ERROR, problems, error, named_site=result.named_site)
    line = f"{result.path}: site {valid.site_id} is valid: {valid.summary()}"
    return SiteResult(path, valid.site_id, VALID, problems, rendered={"text": line})


def first_error(problems: Problems) -> str:
    errors = [line for line, warning in problems.lines if not warning]
    return errors[0] if errors else "not a valid site file"
