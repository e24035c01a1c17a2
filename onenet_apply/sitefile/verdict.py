"""A site file's verdict: its problems and, when it has no error, the valid site.

The valid site's typed SiteSpec is assembled on first use: `onenet validate` only
reports a valid site's id and counts, which the data as read already gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onenet_apply.gcpause import gc_paused
from onenet_apply.model.spec import SiteSpec, summary_of
from onenet_apply.sitefile.problems import Problem
from onenet_apply.sitefile.spec_builder import Normalised, build_spec


class ValidSite:
    """A site file that passed every check: its id and summary as read, and its typed
    SiteSpec, assembled on first use (`onenet validate` never needs it)."""

    __slots__ = ("_data", "_normalised", "_spec")

    def __init__(self, data: dict[str, Any], normalised: Normalised) -> None:
        self._data: dict[str, Any] | None = data
        self._normalised: Normalised | None = normalised
        self._spec: SiteSpec | None = None

    @property
    def site_id(self) -> str:
        return self.spec().site.id if self._data is None else str(self._data["site"]["id"])

    def summary(self) -> str:
        if self._data is None:
            return self.spec().summary()
        return summary_of(self._data)

    def spec(self) -> SiteSpec:
        if self._spec is None:
            assert self._data is not None and self._normalised is not None
            with gc_paused():
                self._spec = build_spec(self._data, self._normalised)
            # the spec holds all a plan needs: let the file's data and values go
            self._data = self._normalised = None
        return self._spec


@dataclass(slots=True)
class Validation:
    """A site file's verdict: its problems in file order and, when it has no error, the
    valid site."""

    path: str
    problems: list[Problem]
    dropped: int = 0  # problems beyond the report limit
    valid: ValidSite | None = None
    # the site id the file states, valid or not: a broken file still names its site
    # (a run over many files finds two files of one site, whichever is broken)
    named_site: str | None = None

    @property
    def ok(self) -> bool:
        return self.valid is not None

    @property
    def spec(self) -> SiteSpec | None:
        """The typed site when the file is valid (assembled on first use)."""
        return self.valid.spec() if self.valid is not None else None
