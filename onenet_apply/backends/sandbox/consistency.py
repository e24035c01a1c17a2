"""Invariants of a sandbox database, checked after crashes and in tests.

Every action commits whole (alone, or in its batch), so these hold after any number
of kills: a violation here means an action was half applied or a rule was broken.
"""

from __future__ import annotations

import json
import sqlite3

from onenet_apply.backends.sandbox.store import LICENCE_COUNT
from onenet_apply.model.spec import NO_DESK_PHONE
from onenet_apply.model.vocabulary import ONE_PER_USER_TYPES


def check(db: sqlite3.Connection, site: str) -> list[str]:
    problems: list[str] = []
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    for row in db.execute("PRAGMA foreign_key_check"):
        problems.append(f"foreign key broken: {tuple(row)}")
    problems += _held_values(db, site, "numbers", "number")
    problems += _held_values(db, site, "extensions", "extension")
    problems += _licence_use(db, site)
    for user_id, desk_phone, secret in db.execute(
        "SELECT id, desk_phone, secret_hash FROM users WHERE site = ?", (site,)
    ):
        if (desk_phone == NO_DESK_PHONE) != (secret is None):
            problems.append(
                f"user {user_id}: desk phone {desk_phone}, login details "
                f"{'none' if secret is None else 'issued'}"
            )
    for group_type in ONE_PER_USER_TYPES:
        for user_id, count in db.execute(
            "SELECT user_id, COUNT(*) FROM members WHERE site = ? AND type = ? "
            "GROUP BY user_id HAVING COUNT(*) > 1",
            (site, group_type),
        ):
            problems.append(f"user {user_id} is in {count} groups of type {group_type}")
    for group_type, group_id, user_id, lifecycle in db.execute(
        "SELECT m.type, m.group_id, m.user_id, u.lifecycle FROM members m JOIN users u "
        "ON u.site = m.site AND u.id = m.user_id WHERE m.site = ? "
        "AND m.type IN ('hunt_group', 'call_centre') AND u.lifecycle IN ('pending', 'failed')",
        (site,),
    ):
        problems.append(f"{lifecycle} user {user_id} is in {group_type} {group_id}")
    for group_id, settings in db.execute(
        "SELECT id, settings FROM groups WHERE site = ? AND type = 'hunt_group'", (site,)
    ):
        if json.loads(settings).get("policy") != "weighted":
            continue
        weights = [
            w
            for (w,) in db.execute(
                "SELECT weight FROM members WHERE site = ? AND type = 'hunt_group' AND group_id = ?",
                (site, group_id),
            )
        ]
        # A delete removes the user from the group (as the platform does), which can leave
        # the other weights short of 100 until the next list write; a member without a
        # weight would be a half-written list.
        if None in weights:
            problems.append(f"weighted hunt group {group_id} has weights {weights}")
    return problems


def _held_values(db: sqlite3.Connection, site: str, table: str, column: str) -> list[str]:
    """Each user's and group's number (extension) is held by it, and nothing else is held."""
    problems = []
    owners = {}
    for user_id, value in db.execute(f"SELECT id, {column} FROM users WHERE site = ?", (site,)):
        owners[("user", user_id)] = value
    for group_type, group_id, value in db.execute(
        f"SELECT type, id, {column} FROM groups WHERE site = ? AND {column} IS NOT NULL", (site,)
    ):
        owners[(group_type, group_id)] = value
    held = {
        (owner_type, owner_id): value
        for value, owner_type, owner_id in db.execute(
            f"SELECT {column}, owner_type, owner_id FROM {table} WHERE site = ?", (site,)
        )
    }
    if held != owners:
        for key in sorted(set(held) | set(owners)):
            if held.get(key) != owners.get(key):
                problems.append(
                    f"{column} of {key[0]}/{key[1]}: record {owners.get(key)}, held {held.get(key)}"
                )
    return problems


def _licence_use(db: sqlite3.Connection, site: str) -> list[str]:
    """The licence counts kept for a site with limits are its users' own; a site
    without limits has none kept (a count kept down to 0 is no count)."""
    kept = {
        name: used
        for name, used in db.execute("SELECT name, used FROM licence_use WHERE site = ?", (site,))
        if used
    }
    counted = {
        name: used for _, name, used in db.execute(LICENCE_COUNT.format(where="site = ?"), (site,))
    }
    return [] if kept == counted else [f"licences in use: kept {kept}, counted {counted}"]
