"""One site's result in a run over many: what the worker sends back to the parent.

Small on purpose: the rendered plan and counts, never the site's spec or state, so
the parent of a run over hundreds of sites holds only what it prints."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

IN_SYNC, CHANGES, NEEDS_HUMAN, ERROR = "in_sync", "changes", "needs_human", "error"
VALID = "valid"  # validate's outcome for a site without errors
OUTCOMES = (IN_SYNC, CHANGES, NEEDS_HUMAN, ERROR)


@dataclass(frozen=True, slots=True)
class Problems:
    """A site file's problems as `onenet validate` prints them: (line, is a warning)."""

    lines: tuple[tuple[str, bool], ...] = ()
    as_json: tuple[dict[str, Any], ...] = ()
    errors: int = 0  # errors, dropped ones included
    dropped_line: str | None = None  # "FILE: ... and N more problems"


@dataclass(frozen=True, slots=True)
class SiteResult:
    """One site's part of a run over many sites: its outcome, problems or error, and its
    rendered plan."""

    file: str
    site: str | None  # None when the file could not be read as a site
    outcome: str
    problems: Problems = field(default_factory=Problems)
    error: str | None = None  # the error in one line (outcome error)
    rendered: dict[str, str] = field(default_factory=dict)  # format -> the plan so
    # (json: its saved-plan document); validate: {"text": the "is valid" line}
    counts: dict[str, int] = field(default_factory=dict)
    spec_digest: str | None = None
    named_site: str | None = None  # a broken file's site id, as it states it

    @property
    def claimed_site(self) -> str | None:
        """The site the file is of, broken or not: two files of one site are both
        errors, whichever of them is broken."""
        return self.site or self.named_site

    def failed(self, error: str) -> SiteResult:
        """This site as an error (another file holds the same site, say)."""
        return SiteResult(
            self.file, self.site, ERROR, self.problems, error, named_site=self.named_site
        )


def shared_sites(entries: Iterable[tuple[str | None, str]]) -> dict[str, str]:
    """Of (site id, file) pairs, each site id that two or more files hold, with why
    every one of them is refused: which file is right is for a human to say."""
    files: dict[str, list[str]] = {}
    for site, file in entries:
        if site is not None:
            files.setdefault(site, []).append(file)
    return {
        site: f"site {site} is in {' and '.join(held)}; one site, one file"
        for site, held in files.items()
        if len(held) > 1
    }
