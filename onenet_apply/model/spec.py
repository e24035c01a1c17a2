"""The desired site: typed, immutable, and already normalised.

A `SiteSpec` is what validation hands to the planner: numbers in E.164,
extensions filled in from their defaults, usernames defaulted to the user's id.
Nothing here can be invalid; the loader and validator make sure of that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

ACTIVE = "active"  # kept in saved plans and digests; said as ACTIVATED to people
ACTIVATED = "activated"  # the platform's word (and sandbox status's), also read in site files
DEACTIVATED = "deactivated"
NO_DESK_PHONE = "none"
OMITTED_AT_DEFAULT = "omitted_at_default"
"""Field metadata: the field's plain form (digests, saved plans) leaves it out at its
default, so a setting added later changes nothing for the site files that omit it."""


def frozen_map(items: dict | None = None) -> Mapping:
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True, slots=True)
class Policy:
    """How much one apply may change: deletions allowed, and the share of the site an
    apply may touch before it is gated."""

    allow_delete: bool = False
    max_change_percent: int = 30


@dataclass(frozen=True, slots=True)
class Site:
    """The site's own settings: its id and name, country (numbers read in it), extension
    length, number pool, licences, policy and what it leaves unmanaged."""

    id: str
    name: str
    country: str
    extension_length: int = 4
    number_pool: tuple[str, ...] = ()
    licences: Mapping[str, int] = field(default_factory=frozen_map)
    policy: Policy = Policy()
    unmanaged: tuple[str, ...] = ()
    # the site's id on the platform (the BroadWorks group id) when it is not `id`
    platform_id: str | None = field(default=None, metadata={OMITTED_AT_DEFAULT: True})


@dataclass(frozen=True, slots=True)
class Mobile:
    """A user's mobile number and the contract it is billed to."""

    number: str
    contract: str


@dataclass(frozen=True, slots=True)
class Deactivation:
    """Where calls to a deactivated user go, and what the caller hears."""

    transfer_to: str
    caller: str  # hears-number | presses-key


@dataclass(frozen=True, slots=True)
class User:
    """A user as the site file wants it: profile, number and extension, package, options
    and services, desk phone, mobile and status."""

    id: str
    first_name: str
    last_name: str
    username: str
    number: str
    extension: str
    package: str
    email: str | None = None
    options: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    desk_phone: str = NO_DESK_PHONE
    mobile: Mobile | None = None
    status: str = ACTIVE
    deactivation: Deactivation | None = None


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """What a hunt group does when nobody answers: after how many rings or seconds,
    forwarded where."""

    rings: int | None = None
    forward_to: str | None = None
    timeout: int | None = None


@dataclass(frozen=True, slots=True)
class HuntGroup:
    """A hunt group: its number and extension, the policy ringing its members, their
    weights, and what happens on no answer."""

    id: str
    name: str
    number: str
    extension: str
    policy: str
    members: tuple[str, ...] = ()
    weights: Mapping[str, int] = field(default_factory=frozen_map)
    no_answer: NoAnswer | None = None


@dataclass(frozen=True, slots=True)
class CallCentre:
    """A call centre: its number and extension, edition, agents and supervisors."""

    id: str
    name: str
    number: str
    extension: str
    edition: str
    agents: tuple[str, ...] = ()
    supervisors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallPickupGroup:
    """A call pickup group: members answer each other's calls; a user is in one at most."""

    id: str
    name: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallParkGroup:
    """A call park group: members park calls for each other; a user is in one at most."""

    id: str
    name: str
    members: tuple[str, ...] = ()
    recall_timer: int | None = None


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """A whole site as its file wants it: the site settings and every user and group, by
    id."""

    site: Site
    users: Mapping[str, User] = field(default_factory=frozen_map)
    hunt_groups: Mapping[str, HuntGroup] = field(default_factory=frozen_map)
    call_centres: Mapping[str, CallCentre] = field(default_factory=frozen_map)
    call_pickup_groups: Mapping[str, CallPickupGroup] = field(default_factory=frozen_map)
    call_park_groups: Mapping[str, CallParkGroup] = field(default_factory=frozen_map)

    def summary(self) -> str:
        return summary_of({section: getattr(self, section) for section in _SUMMARY_WORDS})


_SUMMARY_WORDS = {
    "users": "user",
    "hunt_groups": "hunt group",
    "call_centres": "call centre",
    "call_pickup_groups": "pickup group",
    "call_park_groups": "park group",
}


def summary_of(sections: Mapping[str, Any]) -> str:
    """`3 users, 1 hunt group, ...`: how many entries each section (a spec's, or a valid
    site file's data as read) has; a section absent or empty counts none."""
    counts = ((len(sections.get(section) or ()), word) for section, word in _SUMMARY_WORDS.items())
    return ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts)
