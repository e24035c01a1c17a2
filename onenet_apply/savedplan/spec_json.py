"""The SiteSpec from its plain JSON form (`digest.plain`), as a saved plan carries it.

A saved plan embeds the site content it was made from, so apply can plan again
from exactly that content. The decoder follows the spec's own type hints, so it
stays in step with `spec.py`, and it is strict: every key present, no unknown
key, every value of its declared type (a bool is not an int). A document that is
not exactly the plain form of some SiteSpec is refused with the path of the
first wrong value.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from onenet_apply.model.spec import OMITTED_AT_DEFAULT, SiteSpec, frozen_map

T = TypeVar("T")


class SpecJsonError(ValueError):
    """The embedded site content is not the plain form of a SiteSpec."""


def spec_from_json(data: Any) -> SiteSpec:
    """Rebuild the SiteSpec whose `digest.plain` form is `data`."""
    return _decode(SiteSpec, data, "spec")


def _decode(kind: Any, value: Any, path: str) -> Any:
    origin = get_origin(kind)
    if kind in (str, int, bool):
        if type(value) is not kind:
            raise SpecJsonError(f"{path}: expected {kind.__name__}, got {_show(value)}")
        return value
    if origin in (Union, types.UnionType):
        options = get_args(kind)
        if value is None and type(None) in options:
            return None
        [inner] = [o for o in options if o is not type(None)]  # the spec uses `T | None` only
        return _decode(inner, value, path)
    if origin is tuple:
        item, _ = get_args(kind)  # tuple[T, ...]
        if not isinstance(value, list):
            raise SpecJsonError(f"{path}: expected a list, got {_show(value)}")
        return tuple(_decode(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is Mapping:
        _, item = get_args(kind)  # Mapping[str, T]
        if not isinstance(value, dict):
            raise SpecJsonError(f"{path}: expected an object, got {_show(value)}")
        return frozen_map({k: _decode(item, v, f"{path}.{k}") for k, v in value.items()})
    if dataclasses.is_dataclass(kind):
        return _record(kind, value, path)
    raise SpecJsonError(f"{path}: cannot decode a {kind!r}")  # a spec field of a new type


def _record(kind: type, value: Any, path: str) -> Any:
    hints = _hints(kind)
    if not isinstance(value, dict):
        raise SpecJsonError(f"{path}: expected an object, got {_show(value)}")
    unknown = sorted(set(value) - set(hints))
    if unknown:
        raise SpecJsonError(f"{path}: unknown key {unknown[0]!r}")
    optional = _optional(kind)
    missing = [name for name in hints if name not in value and name not in optional]
    if missing:
        raise SpecJsonError(f"{path}: missing key {missing[0]!r}")
    return kind(
        **{
            name: _decode(hint, value[name], f"{path}.{name}")
            for name, hint in hints.items()
            if name in value
        }
    )


@cache
def _optional(kind: type) -> frozenset[str]:
    """The fields the plain form leaves out at their default (`OMITTED_AT_DEFAULT`)."""
    return frozenset(f.name for f in dataclasses.fields(kind) if f.metadata.get(OMITTED_AT_DEFAULT))


@cache
def _hints(kind: type) -> dict[str, Any]:
    """Field name -> resolved type, in declaration order."""
    resolved = get_type_hints(kind)
    return {f.name: resolved[f.name] for f in dataclasses.fields(kind)}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def from_plain(kind: type[T], value: Any, path: str = "record") -> T:
    """One spec record (a User, a HuntGroup, ...) from its plain JSON form."""
    decoded: T = _decode(kind, value, path)
    return decoded
