"""A toy backend: a platform kept in memory, written on the backend base class.

It shows what a new backend has to bring (its state, its operations, login
details) and passes the same contract tests as the sandbox. Every object is
activated at once, as on a platform whose carrier never keeps anyone waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from onenet_apply.backends.base import (
    ConflictError,
    Credential,
    JournalEntry,
    LockHolder,
    LockTimeout,
    NotFoundError,
    Recorder,
)
from onenet_apply.backends.common import Call, SequentialBackend
from onenet_apply.model.catalogue import Catalogue, default_catalogue
from onenet_apply.model.fields import GROUP_LISTS
from onenet_apply.model.passwords import generate_password
from onenet_apply.model.plan import Action
from onenet_apply.model.spec import (
    CallCentre,
    CallParkGroup,
    CallPickupGroup,
    HuntGroup,
    User,
    frozen_map,
)
from onenet_apply.model.state import Current, Lifecycle, SiteState
from onenet_apply.model.vocabulary import SECTION_OF
from onenet_apply.savedplan.spec_json import from_plain

KINDS = {"user": User, "hunt_group": HuntGroup, "call_centre": CallCentre}
KINDS |= {"call_pickup_group": CallPickupGroup, "call_park_group": CallParkGroup}


@dataclass
class Platform:
    """What every handle of one memory backend shares: the sites, locks and journal."""

    sites: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    locks: dict[str, threading.Lock] = field(default_factory=dict)
    journal: list[JournalEntry] = field(default_factory=list)


class MemoryBackend(SequentialBackend):
    """The Backend protocol alone: no site lock of its own, no journal."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def catalogue(self) -> Catalogue:
        return default_catalogue()

    def read_state(self, site_id: str) -> SiteState:
        site = self.platform.sites.get(site_id)
        if site is None:
            return SiteState(site_id)
        sections = {
            SECTION_OF[kind]: frozen_map(
                {i: Current(from_plain(KINDS[kind], r), _lifecycle(r)) for i, r in rows.items()}
            )
            for kind, rows in site.items()
        }
        return SiteState(site_id, True, **sections)

    # -- the operations: every write is a merge of the action's values
    def create_user(self, call: Call, action: Action) -> Credential | None:
        row = {"id": action.target.id, "status": "active", "deactivation": None}
        row |= action.values()
        # login details are recorded before the request that issues them is "sent"
        credential = self._login(call, row, "created") if row["desk_phone"] != "none" else None
        self._create(call, action, row)
        return credential

    def update_config(self, call: Call, action: Action) -> Credential | None:
        row = self._row(call, action) | action.values()
        new_phone = "desk_phone" in action.values() and row["desk_phone"] != "none"
        credential = self._login(call, row, "created") if new_phone else None
        self._update(call, action)
        return credential

    def create_group(self, call: Call, action: Action) -> None:
        lists = {r: {} if r == "weights" else [] for r in GROUP_LISTS[action.target.type]}
        self._create(call, action, {"id": action.target.id, **lists, **action.values()})

    def delete_user(self, call: Call, action: Action) -> None:
        self._row(call, action)
        for kind, rows in self._site(call.site_id).items():
            for row in rows.values():  # a deleted user leaves every group
                for role in GROUP_LISTS.get(kind, ()):
                    if role != "weights" and action.target.id in row[role]:
                        row[role].remove(action.target.id)
        self._delete(call, action)

    def update_profile(self, call: Call, action: Action) -> None:
        self._update(call, action)

    def deactivate(self, call: Call, action: Action) -> None:
        self._update(call, action)

    def reactivate(self, call: Call, action: Action) -> None:
        self._update(call, action)

    def update_group(self, call: Call, action: Action) -> None:
        self._update(call, action)

    def set_members(self, call: Call, action: Action) -> None:
        self._update(call, action)

    def delete_group(self, call: Call, action: Action) -> None:
        self._delete(call, action)

    def reset_login(self, site_id: str, user_id: str, record: Recorder | None = None) -> Credential:
        return self._login(Call(site_id, record), self._site(site_id)["user"][user_id], "reset")

    def set_password(
        self, site_id: str, user_id: str, password: str, record: Recorder | None = None
    ) -> Credential:
        row = self._site(site_id)["user"][user_id]
        return self._login(Call(site_id, record), row, "set", password)

    # -- internals
    def _site(self, site_id: str) -> dict[str, dict[str, dict[str, Any]]]:
        return self.platform.sites.setdefault(site_id, {kind: {} for kind in KINDS})

    def _row(self, call: Call, action: Action) -> dict[str, Any]:
        row = self._site(call.site_id)[action.target.type].get(action.target.id)
        if row is None:
            raise NotFoundError(f"no {action.target}")
        return row

    def _create(self, call: Call, action: Action, row: dict[str, Any]) -> dict[str, Any]:
        rows = self._site(call.site_id)[action.target.type]
        if action.target.id in rows:
            raise ConflictError(f"{action.target} already exists")
        rows[action.target.id] = row
        self._note(call, action)
        return row

    def _update(self, call: Call, action: Action) -> dict[str, Any]:
        row = self._row(call, action)
        row.update(action.values())
        self._note(call, action)
        return row

    def _delete(self, call: Call, action: Action) -> None:
        self._row(call, action)
        del self._site(call.site_id)[action.target.type][action.target.id]
        self._note(call, action)

    def _note(self, call: Call, action: Action) -> None:
        seq = len(self.platform.journal) + 1
        self.platform.journal.append(JournalEntry(seq, "", call.site_id, action.id, "ok", ""))

    def _login(
        self, call: Call, row: dict[str, Any], event: str, password: str | None = None
    ) -> Credential:
        login = f"{row['username']}.{row['extension']}"
        secret = password or generate_password()
        return call.issue(
            Credential(
                call.site_id,
                row["id"],
                row["username"],
                row["number"],
                row["extension"],
                row["desk_phone"],
                login,
                secret,
                "",
                event,
            )
        )


def _lifecycle(row: dict[str, Any]) -> Lifecycle:
    deactivated = row.get("status") == "deactivated"
    return Lifecycle.DEACTIVATED if deactivated else Lifecycle.ACTIVATED


class LockingMemoryBackend(MemoryBackend):
    """The same platform keeping the two capabilities too: the site lock and a journal."""

    @contextmanager
    def lock(self, site_id: str, timeout: float, command: str = "") -> Iterator[None]:
        lock = self.platform.locks.setdefault(site_id, threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise LockTimeout(site_id, LockHolder(0, "memory", "", command), timeout)
        try:
            yield
        finally:
            lock.release()

    def journal(self, site_id: str, limit: int | None = None) -> list[JournalEntry]:
        entries = [e for e in self.platform.journal if e.site == site_id]
        return entries[-limit:] if limit else entries


def open_memory(location: str, *, create: bool) -> LockingMemoryBackend:
    """The registry's factory for `memory:NAME`: one shared platform per name."""
    return LockingMemoryBackend(PLATFORMS.setdefault(location, Platform()))


open_memory.usage = "memory:NAME"  # type: ignore[attr-defined]
PLATFORMS: dict[str, Platform] = {}
