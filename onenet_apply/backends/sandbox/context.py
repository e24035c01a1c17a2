"""What one sandbox transaction works with: the connection, the site, the rules' helpers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from onenet_apply.backends.base import ConflictError, NotFoundError, RefusedError
from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.state import Lifecycle
from onenet_apply.sitefile.values import id_problem, value_problems


@dataclass(slots=True)
class SiteTx:
    """One transaction on one site. Every rule check raises RefusedError naming its rule."""

    db: sqlite3.Connection
    site: str
    catalogue: Catalogue
    activation: str  # manual | immediate | after:N
    licences: dict[str, int] | None

    # -- the carrier's clock -------------------------------------------------------
    def activate_at(self) -> float | None:
        if self.activation == "immediate":
            return time.time()
        if self.activation.startswith("after:"):
            return time.time() + float(self.activation.removeprefix("after:"))
        return None

    # -- lookups ---------------------------------------------------------------------
    def user(self, user_id: str) -> sqlite3.Row:
        row = self.db.execute(
            "SELECT * FROM users WHERE site = ? AND id = ?", (self.site, user_id)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no user {user_id} on site {self.site}")
        return row

    def group(self, group_type: str, group_id: str) -> sqlite3.Row:
        row = self.db.execute(
            "SELECT * FROM groups WHERE site = ? AND type = ? AND id = ?",
            (self.site, group_type, group_id),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no {group_type} {group_id} on site {self.site}")
        return row

    # -- numbers and extensions ----------------------------------------------------------
    def claim(self, table: str, value: str, owner_type: str, owner_id: str) -> None:
        column = "number" if table == "numbers" else "extension"
        try:
            self.db.execute(
                f"INSERT INTO {table} (site, {column}, owner_type, owner_id) VALUES (?, ?, ?, ?)",
                (self.site, value, owner_type, owner_id),
            )
        except sqlite3.IntegrityError:
            row = self.db.execute(
                f"SELECT owner_type, owner_id FROM {table} WHERE site = ? AND {column} = ?",
                (self.site, value),
            ).fetchone()
            raise RefusedError(
                f"{column}-unique",
                f"{column} {value} is held by {row[0]}/{row[1]}",
            ) from None

    def release(self, table: str, value: str | None) -> None:
        if value is None:
            return
        column = "number" if table == "numbers" else "extension"
        self.db.execute(f"DELETE FROM {table} WHERE site = ? AND {column} = ?", (self.site, value))

    def move(
        self, table: str, old: str | None, new: str | None, owner_type: str, owner_id: str
    ) -> None:
        if old == new:
            return
        self.release(table, old)
        if new is not None:
            self.claim(table, new, owner_type, owner_id)

    # -- catalogue and licences ------------------------------------------------------------
    def check_catalogue(self, word: str, values: Iterable[str], allowed: frozenset[str]) -> None:
        for value in values:
            if value not in allowed:
                raise RefusedError("catalogue", f"unknown {word} {value!r}")

    def count_licences(self, before: Iterable[str], after: Iterable[str]) -> None:
        """Keep the site's licence counts (store.py) as a user's package and options go
        from `before` to `after` (nothing: a new or deleted user). Only a site with
        limits keeps them."""
        if not self.licences:
            return
        before, after = set(before), set(after)
        for name in before - after:
            self.db.execute(
                "UPDATE licence_use SET used = used - 1 WHERE site = ? AND name = ?",
                (self.site, name),
            )
        for name in after - before:
            self.db.execute(
                "INSERT INTO licence_use (site, name, used) VALUES (?, ?, 1) "
                "ON CONFLICT (site, name) DO UPDATE SET used = used + 1",
                (self.site, name),
            )

    def check_licences(self, names: Iterable[str]) -> None:
        """Refuse when the site now uses more of these packages or options than it owns
        (docs/domain.md #C3)."""
        if not self.licences:
            return
        for name in set(names) & set(self.licences):
            row = self.db.execute(  # kept by count_licences: no count over the users
                "SELECT used FROM licence_use WHERE site = ? AND name = ?", (self.site, name)
            ).fetchone()
            used = row[0] if row else 0
            owned = self.licences[name]
            if used > owned:
                raise RefusedError(
                    "licences", f"the site owns {owned} {name} licences; {used} would be needed"
                )


def require_state(lifecycle: str, allowed: tuple[Lifecycle, ...], rule: str, doing: str) -> None:
    """One cell of the lifecycle table in docs/lifecycle.md: refuse `doing` unless in `allowed`."""
    if lifecycle not in allowed:
        if lifecycle == Lifecycle.FAILED:
            reason = "its activation failed: contact the One Net Business team"
        else:
            reason = f"it is {lifecycle}"
        raise RefusedError(f"lifecycle:{rule}", f"cannot {doing}: {reason}")


def check_values(owner: str, values: dict[str, Any], object_id: str | None = None) -> None:
    """The platform's rules on values (lengths in characters, name and username
    characters, E.164 numbers, extension digits, ids), whatever path an action took."""
    if object_id is not None:
        problem = id_problem(object_id)
        if problem:
            raise RefusedError("value:id", f"id {object_id!r}: {problem}")
    for field, problem in value_problems(owner, values):
        raise RefusedError(f"value:{field}", problem)


def only_fields(values: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    if not allowed.issuperset(values):  # every action passes here: the cheap test first
        extra = sorted(set(values) - allowed)
        raise ConflictError(f"{what} cannot change {', '.join(extra)}")
