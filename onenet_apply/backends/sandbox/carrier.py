"""The carrier's side: Vodafone activates new users and groups later, or fails them.

`activate` and `fail` stand in for the carrier by hand; an activation mode per
site does it by itself: `manual` (default), `immediate`, or `after:SECONDS`.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

from onenet_apply.backends.base import BackendError

_MODE = re.compile(r"^(manual|immediate|after:\d+(\.\d+)?)$")
_TABLES = ("users", "groups")  # both hold pending objects the carrier activates


@dataclass(frozen=True, slots=True)
class CarrierOutcome:
    changed: list[str]  # "user/anna", "hunt_group/sales"
    skipped: list[str]  # "user/ben: it is activated"


def check_mode(mode: str) -> str:
    if not _MODE.match(mode):
        raise BackendError(f"activation mode {mode!r}: use manual, immediate or after:SECONDS")
    return mode


def tick(db: sqlite3.Connection, site: str) -> None:
    """Activate what the carrier would have activated by now (timed modes)."""
    now = time.time()
    for table in _TABLES:
        db.execute(
            f"UPDATE {table} SET lifecycle = 'activated', activate_at = NULL "
            "WHERE site = ? AND lifecycle = 'pending' AND activate_at IS NOT NULL "
            "AND activate_at <= ?",
            (site, now),
        )


def settle(db: sqlite3.Connection, site: str, ids: Iterable[str] | None, to: str) -> CarrierOutcome:
    """Move pending users and groups to `to` (activated or failed): all, or those named.

    A name is an id (`anna`) or a qualified id (`user/anna`, `hunt_group/sales`)."""
    pending = _pending(db, site)
    changed: list[str] = []
    skipped: list[str] = []
    if ids is None:
        targets = list(pending)
    else:
        targets = []
        for name in ids:
            found = [key for key in pending if key == name or key.split("/", 1)[1] == name]
            if found:
                targets.extend(found)
            else:
                skipped.append(f"{name}: {_state_of(db, site, name)}")
    for key in dict.fromkeys(targets):
        kind, ident = key.split("/", 1)
        if kind == "user":
            db.execute(
                "UPDATE users SET lifecycle = ?, activate_at = NULL WHERE site = ? AND id = ?",
                (to, site, ident),
            )
        else:
            db.execute(
                "UPDATE groups SET lifecycle = ?, activate_at = NULL "
                "WHERE site = ? AND type = ? AND id = ?",
                (to, site, kind, ident),
            )
        changed.append(key)
    return CarrierOutcome(changed, skipped)


def _pending(db: sqlite3.Connection, site: str) -> list[str]:
    users = [
        f"user/{r[0]}"
        for r in db.execute(
            "SELECT id FROM users WHERE site = ? AND lifecycle = 'pending' ORDER BY id", (site,)
        )
    ]
    groups = [
        f"{r[0]}/{r[1]}"
        for r in db.execute(
            "SELECT type, id FROM groups WHERE site = ? AND lifecycle = 'pending' ORDER BY type, id",
            (site,),
        )
    ]
    return users + groups


def _state_of(db: sqlite3.Connection, site: str, name: str) -> str:
    ident = name.split("/", 1)[-1]
    row = (
        db.execute(
            "SELECT lifecycle FROM users WHERE site = ? AND id = ?", (site, ident)
        ).fetchone()
        or db.execute(
            "SELECT lifecycle FROM groups WHERE site = ? AND id = ?", (site, ident)
        ).fetchone()
    )
    return f"it is {row[0]}, not pending" if row else "no such user or group"
