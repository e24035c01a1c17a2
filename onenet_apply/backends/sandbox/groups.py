"""Group actions in the sandbox: hunt groups, call centres, pickup and park groups.

Member lists are written whole, as on the platform. Hunt groups and call centres
are pending until the carrier activates them: their members and settings may be
set meanwhile, their number, extension and deletion wait.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onenet_apply.backends.base import ConflictError, RefusedError
from onenet_apply.backends.sandbox import records
from onenet_apply.backends.sandbox.context import SiteTx, check_values, only_fields, require_state
from onenet_apply.backends.sandbox.store import FORWARD_TO, TRANSFER_TO
from onenet_apply.model.plan import Action
from onenet_apply.model.spec import CallCentre, CallParkGroup, CallPickupGroup, HuntGroup, NoAnswer
from onenet_apply.model.state import Current, Lifecycle
from onenet_apply.model.vocabulary import (
    ACTIVATED_GROUP_TYPES,
    GROUPS,
    LABEL_OF,
)

A, D, P = Lifecycle.ACTIVATED, Lifecycle.DEACTIVATED, Lifecycle.PENDING
SETTINGS = {name: g.settings for name, g in GROUPS.items()}
ROLES = {name: g.roles for name, g in GROUPS.items()}


def create_group(tx: SiteTx, action: Action) -> None:
    create(tx, action.target.type, action.target.id, action.values())


def update_group(tx: SiteTx, action: Action) -> None:
    row, values = _existing(tx, action)
    group_type = row["type"]
    numbered = group_type in ACTIVATED_GROUP_TYPES
    allowed = {"name", *SETTINGS[group_type]} | ({"number", "extension"} if numbered else set())
    only_fields(values, frozenset(allowed), f"a {LABEL_OF[group_type]} update")
    require_state(row["lifecycle"], (P, A), "group-change", f"change {_who(row)}")
    if {"number", "extension"} & set(values):
        require_state(
            row["lifecycle"], (A,), "group-number", f"change the number or extension of {_who(row)}"
        )
    _update(tx, row, values)


def set_members(tx: SiteTx, action: Action) -> None:
    row, values = _existing(tx, action)
    group_type = row["type"]
    only_fields(values, frozenset({*ROLES[group_type], "weights"}), "a member list write")
    require_state(row["lifecycle"], (P, A), "group-change", f"change the members of {_who(row)}")
    settings = json.loads(row["settings"])
    write_members(tx, group_type, row["id"], settings, values)


def delete_group(tx: SiteTx, action: Action) -> None:
    row, _ = _existing(tx, action)
    require_state(row["lifecycle"], (A,), "group-delete", f"delete {_who(row)}")
    delete(tx, row)


def _existing(tx: SiteTx, action: Action) -> tuple[sqlite3.Row, dict[str, Any]]:
    """The group an action changes, and the action's values, checked as values."""
    values = action.values()
    _check_values(action.target.type, values)
    return tx.group(action.target.type, action.target.id), values


def _who(row: sqlite3.Row) -> str:
    return f"{LABEL_OF[row['type']]} {row['id']}"


def create(tx: SiteTx, group_type: str, group_id: str, values: dict[str, Any]) -> None:
    numbered = group_type in ACTIVATED_GROUP_TYPES
    allowed = {"name", *SETTINGS[group_type], *ROLES[group_type], "weights"}
    if numbered:
        allowed |= {"number", "extension"}
    only_fields(values, frozenset(allowed), f"a {LABEL_OF[group_type]} creation")
    _check_values(group_type, values, group_id)
    settings = {key: values.get(key) for key in SETTINGS[group_type]}
    if group_type == "call_centre" and settings["edition"] not in tx.catalogue.edition_levels:
        raise RefusedError("catalogue", f"unknown call centre edition {settings['edition']!r}")
    try:
        tx.db.execute(
            "INSERT INTO groups (site, type, id, lifecycle, name, number, extension, settings,"
            " activate_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tx.site,
                group_type,
                group_id,
                "pending" if numbered else "activated",
                values["name"],
                values.get("number"),
                values.get("extension"),
                json.dumps(settings),
                tx.activate_at() if numbered else None,
            ),
        )
    except sqlite3.IntegrityError:
        raise ConflictError(f"{LABEL_OF[group_type]} {group_id} already exists") from None
    if numbered:
        tx.claim("numbers", values["number"], group_type, group_id)
        tx.claim("extensions", values["extension"], group_type, group_id)
    lists = {k: v for k, v in values.items() if k in ROLES[group_type] or k == "weights"}
    if lists or group_type == "hunt_group":
        write_members(tx, group_type, group_id, settings, lists)


def _check_values(group_type: str, values: dict[str, Any], group_id: str | None = None) -> None:
    """Value rules on names, numbers and settings; member lists have rules of their own
    (unique, known users) in `write_members`."""
    roles = ROLES[group_type]
    check_values(group_type, {k: v for k, v in values.items() if k not in roles}, group_id)


def _update(tx: SiteTx, row: sqlite3.Row, values: dict[str, Any]) -> None:
    group_type, group_id = row["type"], row["id"]
    settings = json.loads(row["settings"])
    settings.update({k: v for k, v in values.items() if k in SETTINGS[group_type]})
    if group_type == "call_centre":
        if settings["edition"] not in tx.catalogue.edition_levels:
            raise RefusedError("catalogue", f"unknown call centre edition {settings['edition']!r}")
        agents = _role(tx, group_type, group_id, "agents")
        _check_agents(tx, group_id, settings["edition"], agents)
    if group_type == "hunt_group" and "policy" in values:
        # switching to weighted needs the weights in place; other settings changes do not
        # re-check them (a deleted member leaves the rest short until the next list write)
        members, weights = _hunt_members(tx, group_id)
        _check_weights(settings.get("policy"), members, weights)
    if "number" in values:
        tx.move("numbers", row["number"], values["number"], group_type, group_id)
    if "extension" in values:
        tx.move("extensions", row["extension"], values["extension"], group_type, group_id)
    tx.db.execute(
        "UPDATE groups SET name = ?, number = ?, extension = ?, settings = ? "
        "WHERE site = ? AND type = ? AND id = ?",
        (
            values.get("name", row["name"]),
            values.get("number", row["number"]),
            values.get("extension", row["extension"]),
            json.dumps(settings),
            tx.site,
            group_type,
            group_id,
        ),
    )


def write_members(
    tx: SiteTx, group_type: str, group_id: str, settings: dict[str, Any], values: dict[str, Any]
) -> None:
    """Replace whole member lists, after checking every platform rule on them."""
    weights: Mapping[str, int] = values.get("weights") or {}
    for role in ROLES[group_type]:
        if role not in values:
            continue
        new = list(values[role])
        if len(set(new)) != len(new):
            raise RefusedError("members-unique", f"a user is listed twice in {role}")
        _check_new_members(
            tx, group_type, group_id, new, set(_role(tx, group_type, group_id, role))
        )
        if role == "agents":
            _check_agents(tx, group_id, settings["edition"], new)
        tx.db.execute(
            "DELETE FROM members WHERE site = ? AND type = ? AND group_id = ? AND role = ?",
            (tx.site, group_type, group_id, role),
        )
        tx.db.executemany(
            "INSERT INTO members (site, type, group_id, role, position, user_id, weight)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (tx.site, group_type, group_id, role, i, u, weights.get(u))
                for i, u in enumerate(new)
            ],
        )
    if group_type == "hunt_group":
        members, stored = _hunt_members(tx, group_id)
        _check_weights(settings.get("policy"), members, stored)


def _check_new_members(
    tx: SiteTx, group_type: str, group_id: str, new: list[str], old: set[str]
) -> None:
    """Each listed user, in list order, against the membership rules; the users and
    their other groups are read in one query each, not one per member."""
    lifecycles = dict(_each_user(tx, "id, lifecycle", new))
    others: dict[str, str] = {}
    if group_type not in ACTIVATED_GROUP_TYPES and new:
        for user_id, other in tx.db.execute(
            "SELECT user_id, group_id FROM members WHERE site = ? AND type = ? "
            "AND group_id != ? AND user_id IN (SELECT value FROM json_each(?))",
            (tx.site, group_type, group_id, json.dumps(new)),
        ):
            others.setdefault(user_id, other)
    for user_id in new:
        lifecycle = lifecycles.get(user_id)
        if lifecycle is None:
            raise RefusedError("unknown-member", f"no user {user_id} on site {tx.site}")
        if user_id in old:
            continue  # kept members stay, whatever their state (a deactivated user is kept)
        doing = f"add user {user_id} to {LABEL_OF[group_type]} {group_id}"
        if group_type in ACTIVATED_GROUP_TYPES:
            require_state(lifecycle, (A,), "membership", doing)
            continue
        require_state(lifecycle, (P, A, D), "membership", doing)
        if user_id in others:
            raise RefusedError(
                f"one-{group_type.replace('_', '-')}",
                f"user {user_id} is already in {LABEL_OF[group_type]} {others[user_id]}",
            )


def _each_user(tx: SiteTx, columns: str, user_ids: list[str]) -> list[tuple[Any, ...]]:
    """`columns` of the site's users among `user_ids` (id first), in one query."""
    if not user_ids:
        return []
    return tx.db.execute(
        f"SELECT {columns} FROM users WHERE site = ? AND id IN (SELECT value FROM json_each(?))",
        (tx.site, json.dumps(user_ids)),
    ).fetchall()


def _check_agents(tx: SiteTx, centre: str, edition: str, agents: Iterable[str]) -> None:
    needed = tx.catalogue.edition_levels[edition]
    listed = list(agents)
    options = dict(_each_user(tx, "id, options", listed))
    for user_id in listed:
        if (
            user_id in options
            and tx.catalogue.agent_level(tuple(json.loads(options[user_id]))) < needed
        ):
            raise RefusedError(
                "agent-option",
                f"user {user_id} lacks an agent option for the "
                f"{edition} edition of call centre {centre}",
            )


def _check_weights(policy: str | None, members: list[str], weights: dict[str, int]) -> None:
    if policy != "weighted":
        return
    if set(weights) != set(members) or (members and sum(weights.values()) != 100):
        raise RefusedError(
            "weights", "a weighted hunt group needs a weight for every member, summing to 100"
        )


def delete(tx: SiteTx, row: sqlite3.Row) -> None:
    """Frees the number and extension at once; the member rows go first (see
    users.delete: cheaper than the cascade)."""
    _refuse_if_referenced(tx, row)
    tx.release("numbers", row["number"])
    tx.release("extensions", row["extension"])
    key = (tx.site, row["type"], row["id"])
    tx.db.execute("DELETE FROM members WHERE site = ? AND type = ? AND group_id = ?", key)
    tx.db.execute("DELETE FROM groups WHERE site = ? AND type = ? AND id = ?", key)


@dataclass(frozen=True, slots=True)
class Referrer:
    """What uses a group's number as a forward or transfer target, and what the admin
    changes in the site file to let the number go."""

    what: str  # "deactivated user karl transfers to +49..."
    fix: str  # "change or remove karl's deactivation transfer"


def _refuse_if_referenced(tx: SiteTx, row: sqlite3.Row) -> None:
    """A group's number used as a forward or transfer target keeps it
    (docs/edge-cases.md #10, docs/domain.md #R1)."""
    found = referrer(tx, row)
    if found is not None:
        raise RefusedError("referenced", found.what)


def referrer(tx: SiteTx, row: sqlite3.Row) -> Referrer | None:
    """The first hunt group, else user, whose forward or transfer goes to the group's
    number (by id), each looked up in its index (INDEXED BY: the planner, without
    statistics, would scan the site's users instead; store.FORWARD_TO, TRANSFER_TO)."""
    number = row["number"]
    if number is None:
        return None
    forwarding = tx.db.execute(
        "SELECT id FROM groups INDEXED BY groups_forward_to WHERE site = ? "
        f"AND type = 'hunt_group' AND {FORWARD_TO} = ? AND id != ? ORDER BY id LIMIT 1",
        (tx.site, number, row["id"] if row["type"] == "hunt_group" else ""),
    ).fetchone()
    if forwarding is not None:
        other = forwarding[0]
        return Referrer(
            f"hunt group {other} forwards to {number}",
            f"change hunt group {other}'s no_answer.forward_to",
        )
    transferring = tx.db.execute(
        "SELECT id FROM users INDEXED BY users_transfer_to WHERE site = ? "
        f"AND deactivation IS NOT NULL AND {TRANSFER_TO} = ? ORDER BY id LIMIT 1",
        (tx.site, number),
    ).fetchone()
    if transferring is not None:
        user_id = transferring[0]
        return Referrer(
            f"deactivated user {user_id} transfers to {number}",
            f"change or remove {user_id}'s deactivation transfer (deactivation.transfer_to)",
        )
    return None


def _role(tx: SiteTx, group_type: str, group_id: str, role: str) -> list[str]:
    return [
        r[0]
        for r in tx.db.execute(
            "SELECT user_id FROM members WHERE site = ? AND type = ? AND group_id = ? AND role = ? "
            "ORDER BY position",
            (tx.site, group_type, group_id, role),
        )
    ]


def _hunt_members(tx: SiteTx, group_id: str) -> tuple[list[str], dict[str, int]]:
    rows = tx.db.execute(
        "SELECT user_id, weight FROM members WHERE site = ? AND type = 'hunt_group' "
        "AND group_id = ? ORDER BY position",
        (tx.site, group_id),
    ).fetchall()
    return [r[0] for r in rows], {r[0]: r[1] for r in rows if r[1] is not None}


def to_current(row: sqlite3.Row, lists: dict[str, list[tuple[str, int | None]]]) -> Current[Any]:
    group_type, group_id = row["type"], row["id"]
    settings = records.json_mapping(row, "settings") or {}
    lifecycle = records.lifecycle(row)

    def ids(role: str) -> tuple[str, ...]:
        return tuple(u for u, _ in lists.get(role, ()))

    if group_type == "hunt_group":
        no_answer = settings.get("no_answer")
        weights = {u: w for u, w in lists.get("members", ()) if w is not None}
        item: Any = HuntGroup(
            group_id,
            row["name"],
            row["number"],
            row["extension"],
            settings["policy"],
            ids("members"),
            weights if settings["policy"] == "weighted" else {},
            NoAnswer(no_answer.get("rings"), no_answer.get("forward_to"), no_answer.get("timeout"))
            if no_answer
            else None,
        )
    elif group_type == "call_centre":
        item = CallCentre(
            group_id,
            row["name"],
            row["number"],
            row["extension"],
            settings["edition"],
            ids("agents"),
            ids("supervisors"),
        )
    elif group_type == "call_pickup_group":
        item = CallPickupGroup(group_id, row["name"], ids("members"))
    else:
        item = CallParkGroup(group_id, row["name"], ids("members"), settings.get("recall_timer"))
    return Current(item, lifecycle)


def member_lists(
    db: sqlite3.Connection, site_id: str
) -> dict[tuple[str, str], dict[str, list[tuple[str, int | None]]]]:
    """Every member list of the site, in order: (type, group) -> role -> (user, weight).

    One JSON array per list, put together by SQLite and decoded by `json.loads`,
    is about half the cost of a Python row per member on a large site."""
    lists: dict[tuple[str, str], dict[str, list[tuple[str, int | None]]]] = {}
    for type_, group_id, role, entries in db.execute(
        "SELECT type, group_id, role, json_group_array(json_array(position, user_id, weight)) "
        "FROM members WHERE site = ? GROUP BY type, group_id, role",
        (site_id,),
    ):
        ordered = sorted(json.loads(entries))  # by position, which is unique in a list
        lists.setdefault((type_, group_id), {})[role] = [
            (user, weight) for _, user, weight in ordered
        ]
    return lists
