"""The carrier's side: Vodafone activates new users and groups later, or fails them.

`activate` and `fail` stand in for the carrier by hand; an activation mode per
site does it by itself: `manual` (default), `immediate`, or `after:SECONDS`.
A failed activation is the One Net Business team's to resolve: `retry` (pending
again) and `remove` (gone, its number, extension and licences free) play their answer
(docs/domain.md #L8).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

from onenet_apply.backends.base import BackendError, RefusedError
from onenet_apply.backends.sandbox import groups, users
from onenet_apply.backends.sandbox.context import SiteTx

_MODE = re.compile(r"^(manual|immediate|after:\d+(\.\d+)?)$")
_TABLES = ("users", "groups")  # both hold pending objects the carrier activates


@dataclass(frozen=True, slots=True)
class CarrierOutcome:
    """What the carrier's (or the team's) answer changed, and what it left alone, and
    why."""

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
    outcome = select(db, site, ids, "pending")
    for key in outcome.changed:
        _set_lifecycle(db, site, key, to, None)
    return outcome


def retry(tx: SiteTx, ids: Iterable[str] | None) -> CarrierOutcome:
    """The One Net Business team retries failed activations: pending again, and
    activated later by the site's activation mode like any new object."""
    outcome = select(tx.db, tx.site, ids, "failed")
    for key in outcome.changed:
        _set_lifecycle(tx.db, tx.site, key, "pending", tx.activate_at())
    return outcome


def remove(tx: SiteTx, ids: Iterable[str] | None) -> CarrierOutcome:
    """The One Net Business team removes failed users and groups: their number,
    extension, username and licences are free again, as after a delete."""
    outcome = select(tx.db, tx.site, ids, "failed")
    for key in outcome.changed:
        kind, ident = key.split("/", 1)
        if kind == "user":
            users.delete(tx, tx.user(ident))
            continue
        row = tx.group(kind, ident)
        found = groups.referrer(tx, row)
        if found is not None:  # the refusal names the admin's next step
            raise RefusedError(
                "referenced",
                f"{key} cannot be removed while {found.what}: {found.fix} in the site file "
                f"and apply, then remove {key} again",
            )
        groups.delete(tx, row)
    return outcome


def select(
    db: sqlite3.Connection, site: str, ids: Iterable[str] | None, lifecycle: str
) -> CarrierOutcome:
    """The users and groups in `lifecycle` (all, or those named) as `changed`; each name
    that is not in it as `skipped`, with its actual state."""
    candidates = _in_state(db, site, lifecycle)
    skipped: list[str] = []
    if ids is None:
        targets = list(candidates)
    else:
        targets = []
        for name in ids:
            found = [key for key in candidates if key == name or key.split("/", 1)[1] == name]
            if found:
                targets.extend(found)
            else:
                skipped.append(f"{name}: {_state_of(db, site, name, lifecycle)}")
    return CarrierOutcome(list(dict.fromkeys(targets)), skipped)


def _set_lifecycle(
    db: sqlite3.Connection, site: str, key: str, to: str, activate_at: float | None
) -> None:
    kind, ident = key.split("/", 1)
    if kind == "user":
        db.execute(
            "UPDATE users SET lifecycle = ?, activate_at = ? WHERE site = ? AND id = ?",
            (to, activate_at, site, ident),
        )
    else:
        db.execute(
            "UPDATE groups SET lifecycle = ?, activate_at = ? "
            "WHERE site = ? AND type = ? AND id = ?",
            (to, activate_at, site, kind, ident),
        )


def _in_state(db: sqlite3.Connection, site: str, lifecycle: str) -> list[str]:
    users_in = [
        f"user/{r[0]}"
        for r in db.execute(
            "SELECT id FROM users WHERE site = ? AND lifecycle = ? ORDER BY id", (site, lifecycle)
        )
    ]
    groups_in = [
        f"{r[0]}/{r[1]}"
        for r in db.execute(
            "SELECT type, id FROM groups WHERE site = ? AND lifecycle = ? ORDER BY type, id",
            (site, lifecycle),
        )
    ]
    return users_in + groups_in


def _state_of(db: sqlite3.Connection, site: str, name: str, wanted: str) -> str:
    ident = name.split("/", 1)[-1]
    row = (
        db.execute(
            "SELECT lifecycle FROM users WHERE site = ? AND id = ?", (site, ident)
        ).fetchone()
        or db.execute(
            "SELECT lifecycle FROM groups WHERE site = ? AND id = ?", (site, ident)
        ).fetchone()
    )
    return f"it is {row[0]}, not {wanted}" if row else "no such user or group"
