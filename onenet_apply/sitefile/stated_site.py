"""The site id a file states, valid or not: a broken file still names its site, so a
run over many files finds two files of one site whichever of them is broken.

From the data as loaded; when the file is not YAML all through (an unclosed bracket
at its end), from its YAML events up to the error: `site.id` usually comes first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import yaml

from onenet_apply.sitefile.reading import MAX_FILE_BYTES

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def stated_site_id(data: Any, path: str) -> str | None:
    if data is not None:
        site = data.get("site") if isinstance(data, dict) else None
        ident = site.get("id") if isinstance(site, dict) else None
        return ident if isinstance(ident, str) else None
    try:
        if not os.path.isfile(path):  # a pipe or FIFO: read once already (and opening
            return None  # a FIFO again would wait for a writer forever)
        with open(path, "rb") as f:
            text = f.read(MAX_FILE_BYTES)
    except OSError:
        return None  # gone, unreadable: no site named
    events = yaml.parse(text, Loader=_LOADER)
    try:
        for event in events:
            if isinstance(event, yaml.MappingStartEvent):
                return _value_at(events, ("site", "id"))
            if isinstance(event, (yaml.SequenceStartEvent, yaml.ScalarEvent)):
                return None
    except yaml.YAMLError:  # the error comes before site.id does
        return None
    return None


def _value_at(events: Iterator[Any], path: tuple[str, ...]) -> str | None:
    """The string at `path` in the mapping whose start was just read (its keys in
    order, every other value skipped), or None."""
    for key in events:
        if isinstance(key, yaml.MappingEndEvent):
            return None
        _skip(key, events)  # a key that is a collection
        value = next(events)
        if isinstance(key, yaml.ScalarEvent) and key.value == path[0]:
            if len(path) == 1:
                return value.value if isinstance(value, yaml.ScalarEvent) else None
            if isinstance(value, yaml.MappingStartEvent):
                return _value_at(events, path[1:])
            return None
        _skip(value, events)
    return None


def _skip(first: Any, events: Iterator[Any]) -> None:
    """The rest of the node `first` starts (nothing for a scalar or alias)."""
    depth = 1 if isinstance(first, _OPENS) else 0
    while depth:
        event = next(events)
        depth += 1 if isinstance(event, _OPENS) else -1 if isinstance(event, _CLOSES) else 0
