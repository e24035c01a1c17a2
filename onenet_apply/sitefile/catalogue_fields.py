"""Which catalogue list each catalogue-valued place of a site file takes its names
from, so a hint for a misspelt value suggests from that list: a desk phone type for
`desk_phone`, a package or option for a `licences` key, never any catalogue name."""

from __future__ import annotations

from typing import Any

from onenet_apply.model.catalogue import Catalogue
from onenet_apply.sitefile.hints import did_you_mean
from onenet_apply.sitefile.problems import Path


def catalogue_names(path: Path, catalogue: Catalogue) -> frozenset[str] | None:
    """The catalogue's names allowed at `path`, or None where no catalogue name belongs."""
    match path:
        case ("users", _, "package"):
            return catalogue.packages
        case ("users", _, "options", int()):
            return catalogue.options
        case ("users", _, "services", int()):
            return catalogue.services
        case ("users", _, "desk_phone"):
            return catalogue.desk_phones
        case ("site", "licences", str()):
            return catalogue.packages | catalogue.options
    return None


def catalogue_hint(path: Path, value: Any, catalogue: Catalogue) -> str | None:
    """'did you mean ...?' from the list `path` takes names from (case ignored), else
    that list; None where no catalogue name belongs."""
    names = catalogue_names(path, catalogue)
    if names is None or not isinstance(value, str):
        return None
    listed = sorted(names)
    return did_you_mean(value, listed) or f"the catalogue has: {', '.join(listed)}"


def value_at(data: Any, path: Path) -> Any:
    """The raw value at `path` of the loaded site, or None if it is not there."""
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data
