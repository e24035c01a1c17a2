"""Backends by URL scheme: the installed ones, found through entry points.

A backend package registers a factory under the entry point group
`onenet_apply.backends`, named by its URL scheme; the factory takes the rest of
the URL and whether the command may create a new site store:

    [project.entry-points."onenet_apply.backends"]
    sandbox = "onenet_apply.backends.sandbox:open_url"

A factory's `usage` attribute (e.g. "sandbox:PATH") is shown when a URL names a
scheme nobody installed. `register` adds one in-process (tests, embedding).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any, Protocol, cast

from onenet_apply.backends.base import Backend, BackendError

GROUP = "onenet_apply.backends"


class Factory(Protocol):
    def __call__(self, location: str, *, create: bool) -> Backend: ...


_registered: dict[str, Callable[..., Backend]] = {}


def register(scheme: str, factory: Factory) -> None:
    """Make `scheme:...` URLs open with `factory` in this process."""
    _registered[scheme] = factory


def unregister(scheme: str) -> None:
    _registered.pop(scheme, None)


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """One `scheme = module:attribute` line of an installed distribution."""

    name: str
    value: str

    def load(self) -> Callable[..., Backend]:
        module, _, attribute = self.value.partition(":")
        loaded: Any = import_module(module.strip())
        for part in attribute.split("[")[0].strip().split("."):  # `[extras]` name no code
            loaded = getattr(loaded, part)
        return cast(Callable[..., Backend], loaded)


@cache
def _installed() -> dict[str, EntryPoint]:
    """The entry points of every installed backend, by scheme, as importlib.metadata
    finds them: each distribution's entry_points.txt on sys.path, the first of a name
    winning. Read directly, because importlib.metadata's import and metadata parsing
    cost about 50 ms of start-up on every command that opens a backend."""
    found: dict[str, EntryPoint] = {}
    for directory in sys.path:
        try:
            names = sorted(os.listdir(directory or "."))
        except OSError:  # a zip file, a missing directory
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                for entry in _group_entries(os.path.join(directory or ".", name)):
                    found.setdefault(entry.name, entry)
    return found


def _group_entries(distribution: str) -> list[EntryPoint]:
    """The `onenet_apply.backends` entries of one distribution's entry_points.txt."""
    try:
        with open(os.path.join(distribution, "entry_points.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    entries, section = [], None
    for line in lines:
        text = line.strip()
        if text.startswith("[") and text.endswith("]"):
            section = text[1:-1].strip()
        elif section == GROUP and "=" in text and not text.startswith(("#", ";")):
            name, _, value = text.partition("=")
            entries.append(EntryPoint(name.strip(), value.strip()))
    return entries


def schemes() -> list[str]:
    return sorted({*_installed(), *_registered})


def factory_for(scheme: str) -> Callable[..., Backend] | None:
    if scheme in _registered:
        return _registered[scheme]
    entry = _installed().get(scheme)
    if entry is None:
        return None
    try:
        loaded = entry.load()
    except Exception as e:  # a broken plug-in is the user's to hear about, not a traceback
        raise BackendError(f"the backend {scheme!r} is installed but cannot load: {e}") from None
    return loaded


def open_url(url: str, *, create: bool) -> Backend:
    scheme, sep, location = url.partition(":")
    factory = factory_for(scheme) if sep and scheme else None
    if factory is None:
        raise BackendError(
            f"unknown backend {shown_url(url)!r}: installed backends: {_describe_installed()}"
        )
    return factory(location, create=create)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/*")


def shown_url(url: str) -> str:
    """`url` as a message may show it: nothing before its last `@` but the scheme (a
    login, whatever its password holds: / ? # too), and no query or fragment, which
    could hold one as well."""
    head, at, tail = url.rpartition("@")
    if at:
        scheme = _SCHEME.match(head)
        url = f"{scheme.group(0) if scheme else ''}...@{tail}"
    return re.split(r"[?#]", url, maxsplit=1)[0]


def _describe_installed() -> str:
    described = []
    for scheme in schemes():
        try:
            usage = getattr(factory_for(scheme), "usage", "")
        except BackendError:
            usage = "cannot load"
        described.append(f"{scheme} ({usage})" if usage else scheme)
    return ", ".join(described) or "none"
