"""Digests of the desired spec and the current state, so a saved plan can be checked.

A digest is SHA-256 over a canonical JSON form (sorted keys, no spaces), so it
depends on content only: reformatting a site file does not change it, any change
of a user, group or lifecycle state does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from enum import Enum
from functools import cache
from typing import Any

from onenet_apply.model.spec import OMITTED_AT_DEFAULT, SiteSpec
from onenet_apply.model.state import SiteState


def plain(value: Any) -> Any:
    """Dataclasses, mappings, tuples and enums as JSON-ready values."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    names = _field_names(kind)
    if names is not None:
        out = {name: plain(getattr(value, name)) for name in names}
        for name, default in _omitted_at_default(kind):
            if out[name] == default:
                del out[name]
        return out
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


@cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(f.name for f in dataclasses.fields(kind))


@cache
def _omitted_at_default(kind: type) -> tuple[tuple[str, Any], ...]:
    """The fields left out of the plain form while at their default (`OMITTED_AT_DEFAULT`)."""
    return tuple(
        (f.name, f.default) for f in dataclasses.fields(kind) if f.metadata.get(OMITTED_AT_DEFAULT)
    )


def _digest(value: Any) -> str:
    return json_digest(plain(value))


def json_digest(document: Any) -> str:
    """The digest of a JSON document (a saved plan without its own digest field)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def spec_digest(spec: SiteSpec) -> str:
    return _digest(spec)


def state_digest(state: SiteState) -> str:
    return _digest(state)
