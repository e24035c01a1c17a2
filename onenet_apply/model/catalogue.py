"""The catalogue of licence packages, options, services and desk phone types.

The catalogue belongs to the backend; the sandbox ships this default one as a
data file, and `onenet validate` checks against it offline.
"""

from __future__ import annotations

import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@dataclass(frozen=True, slots=True)
class GroupLimits:
    """Where a platform holds pickup and park groups more narrowly than a site file
    may write them, so that a plan refuses the file at review, not half way through
    its apply. The sandbox has none; BroadWorks names each group in one field."""

    # the platform's name of a group (id, display name, states a recall timer) and its
    # longest length; None: no limit
    name_of: Callable[[str, str, bool], str] | None = None
    max_name_length: int = 0
    one_park_recall_timer: bool = False  # one recall timer for all the site's park groups


NO_GROUP_LIMITS = GroupLimits()


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What a platform sells: packages, options, services and desk phones, and which
    agent level an option grants and a call centre edition needs; and how it holds
    groups (`GroupLimits`)."""

    packages: frozenset[str]
    options: frozenset[str]
    services: frozenset[str]
    desk_phones: frozenset[str]
    # option name -> agent level it grants (1 basic, 2 standard)
    agent_levels: dict[str, int]
    # call centre edition -> agent level it requires
    edition_levels: dict[str, int]
    group_limits: GroupLimits = field(default=NO_GROUP_LIMITS, compare=False)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Catalogue:
        options: dict[str, dict[str, Any]] = raw["options"]
        return cls(
            packages=frozenset(raw["packages"]),
            options=frozenset(options),
            services=frozenset(raw["services"]),
            desk_phones=frozenset(raw["desk_phones"]),
            agent_levels={
                name: spec["agent_level"] for name, spec in options.items() if "agent_level" in spec
            },
            edition_levels=dict(raw["call_centre_editions"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "packages": sorted(self.packages),
            "options": {
                name: (
                    {"agent_level": self.agent_levels[name]} if name in self.agent_levels else {}
                )
                for name in sorted(self.options)
            },
            "services": sorted(self.services),
            "desk_phones": sorted(self.desk_phones),
            "call_centre_editions": dict(sorted(self.edition_levels.items())),
        }

    def agent_level(self, options: tuple[str, ...] | frozenset[str]) -> int:
        """The highest call-centre agent level any of these options grants (0: none)."""
        return max((self.agent_levels.get(o, 0) for o in options), default=0)

    def options_for_level(self, level: int) -> list[str]:
        return sorted(o for o, lvl in self.agent_levels.items() if lvl >= level)


@cache
def default_catalogue() -> Catalogue:
    # pkgutil, not importlib.resources: the same package data (from files or a zip)
    # without the 7 ms that importing importlib.resources adds to every command
    data = pkgutil.get_data("onenet_apply", "data/catalogue.json")
    assert data is not None  # the package's loader reads files
    return Catalogue.from_dict(json.loads(data))
