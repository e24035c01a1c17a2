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

from collections.abc import Callable
from functools import cache
from typing import Protocol

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


@cache
def _installed() -> dict[str, object]:
    """The entry points of every installed backend, by scheme (loaded when used).
    importlib.metadata is imported here, by the commands that open a backend only:
    it costs tens of milliseconds of start-up that validate and --help need not pay."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=GROUP)}


def schemes() -> list[str]:
    return sorted({*_installed(), *_registered})


def factory_for(scheme: str) -> Callable[..., Backend] | None:
    if scheme in _registered:
        return _registered[scheme]
    entry = _installed().get(scheme)
    if entry is None:
        return None
    try:
        loaded: Callable[..., Backend] = entry.load()  # type: ignore[attr-defined]
    except Exception as e:  # a broken plug-in is the user's to hear about, not a traceback
        raise BackendError(f"the backend {scheme!r} is installed but cannot load: {e}") from None
    return loaded


def open_url(url: str, *, create: bool) -> Backend:
    scheme, sep, location = url.partition(":")
    factory = factory_for(scheme) if sep and scheme else None
    if factory is None:
        raise BackendError(f"unknown backend {url!r}: installed backends: {_describe_installed()}")
    return factory(location, create=create)


def _describe_installed() -> str:
    described = []
    for scheme in schemes():
        try:
            usage = getattr(factory_for(scheme), "usage", "")
        except BackendError:
            usage = "cannot load"
        described.append(f"{scheme} ({usage})" if usage else scheme)
    return ", ".join(described) or "none"
