"""The current site as a backend reports it: the desired model plus lifecycle.

Each user and group carries the same typed record the SiteSpec uses (so the
planner compares like with like) and its lifecycle state on the platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from onenet_apply.model.spec import (
    CallCentre,
    CallParkGroup,
    CallPickupGroup,
    HuntGroup,
    User,
    frozen_map,
)
from onenet_apply.model.vocabulary import SECTION_OF


class Lifecycle(StrEnum):
    PENDING = "pending"
    ACTIVATED = "activated"
    DEACTIVATED = "deactivated"
    FAILED = "failed"


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Current(Generic[T]):
    """One user or group on the platform: its settings and its lifecycle state."""

    item: T
    lifecycle: Lifecycle


@dataclass(frozen=True, slots=True)
class SiteState:
    """A site as the platform has it now: every user and group with its lifecycle state,
    and the licences the site owns."""

    site_id: str
    exists: bool = False
    users: Mapping[str, Current[User]] = field(default_factory=frozen_map)
    hunt_groups: Mapping[str, Current[HuntGroup]] = field(default_factory=frozen_map)
    call_centres: Mapping[str, Current[CallCentre]] = field(default_factory=frozen_map)
    call_pickup_groups: Mapping[str, Current[CallPickupGroup]] = field(default_factory=frozen_map)
    call_park_groups: Mapping[str, Current[CallParkGroup]] = field(default_factory=frozen_map)
    # licences the site owns on the platform, by package or option name; a name not
    # listed is not limited. The planner orders and blocks by these, not by the site file.
    licences: Mapping[str, int] = field(default_factory=frozen_map)

    def section(self, target_type: str) -> Mapping[str, Current]:
        return getattr(self, SECTION_OF[target_type])
