"""User actions in the sandbox, each checked against the lifecycle table in docs/lifecycle.md."""

from __future__ import annotations

import json
import sqlite3
from functools import cache
from typing import Any

from onenet_apply.backends.base import ConflictError, Credential, RefusedError
from onenet_apply.backends.sandbox import records
from onenet_apply.backends.sandbox.context import SiteTx, check_values, only_fields, require_state
from onenet_apply.backends.sandbox.records import RecordError
from onenet_apply.backends.sandbox.store import now_iso
from onenet_apply.model.passwords import generate_password, hash_password
from onenet_apply.model.plan import Action
from onenet_apply.model.spec import DEACTIVATED, NO_DESK_PHONE, Deactivation, Mobile, User
from onenet_apply.model.state import Current, Lifecycle
from onenet_apply.model.vocabulary import CONFIG, DEACTIVATION, PROFILE

A, D, P = Lifecycle.ACTIVATED, Lifecycle.DEACTIVATED, Lifecycle.PENDING
PROFILE_FIELDS = frozenset(PROFILE)
CONFIG_FIELDS = frozenset(CONFIG)
DEACTIVATION_FIELDS = frozenset(DEACTIVATION)
_USER_FIELDS = PROFILE_FIELDS | CONFIG_FIELDS | {"status", "deactivation"}


def create_user(tx: SiteTx, action: Action) -> Credential | None:
    return create(tx, action.target.id, action.values())


def update_profile(tx: SiteTx, action: Action) -> None:
    row, values = _existing(tx, action)
    require_state(row["lifecycle"], (P, A, D), "profile", f"change the profile of {_who(row)}")
    only_fields(values, PROFILE_FIELDS, "a profile update")
    tx.check_catalogue("service", values.get("services", ()), tx.catalogue.services)
    _update_columns(tx, row["id"], values)


def update_config(tx: SiteTx, action: Action) -> Credential | None:
    row, values = _existing(tx, action)
    require_state(row["lifecycle"], (A, D), "config", f"change the configuration of {_who(row)}")
    only_fields(values, CONFIG_FIELDS, "a configuration update")
    return _update_config(tx, row, values)


def deactivate(tx: SiteTx, action: Action) -> None:
    row, values = _existing(tx, action)
    require_state(row["lifecycle"], (A, D), "deactivate", f"deactivate {_who(row)}")
    only_fields(values, DEACTIVATION_FIELDS, "a deactivation")
    deactivation = values.get("deactivation")  # None: the announcement only
    tx.db.execute(
        "UPDATE users SET lifecycle = 'deactivated', deactivation = ? WHERE site = ? AND id = ?",
        (json.dumps(deactivation) if deactivation else None, tx.site, row["id"]),
    )


def reactivate(tx: SiteTx, action: Action) -> None:
    row, _ = _existing(tx, action)
    require_state(row["lifecycle"], (D,), "reactivate", f"reactivate {_who(row)}")
    tx.db.execute(
        "UPDATE users SET lifecycle = 'activated', deactivation = NULL WHERE site = ? AND id = ?",
        (tx.site, row["id"]),
    )


def delete_user(tx: SiteTx, action: Action) -> None:
    row, _ = _existing(tx, action)
    require_state(row["lifecycle"], (A, D), "delete", f"delete {_who(row)}")
    delete(tx, row)


def _existing(tx: SiteTx, action: Action) -> tuple[sqlite3.Row, dict[str, Any]]:
    """The user an action changes, and the action's values, checked as values."""
    row = tx.user(action.target.id)
    values = action.values()
    check_values("user", values)
    return row, values


def _who(row: sqlite3.Row) -> str:
    return f"user {row['id']}"


def create(tx: SiteTx, user_id: str, values: dict[str, Any]) -> Credential | None:
    only_fields(values, _USER_FIELDS, "a user creation")
    check_values("user", values, user_id)
    if values.get("status", "active") == DEACTIVATED:
        raise RefusedError("lifecycle:create", "a new user starts pending, not deactivated")
    cat = tx.catalogue
    package, options = values["package"], list(values.get("options", ()))
    services, desk_phone = list(values.get("services", ())), values.get("desk_phone", NO_DESK_PHONE)
    tx.check_catalogue("package", [package], cat.packages)
    tx.check_catalogue("option", options, cat.options)
    tx.check_catalogue("service", services, cat.services)
    tx.check_catalogue("desk phone", [desk_phone], cat.desk_phones)
    username = values.get("username", user_id)
    credential = None
    if desk_phone != NO_DESK_PHONE:  # issued with the creation, in the same row write
        credential, secret_hash = new_login(
            tx, user_id, username, values["number"], values["extension"], desk_phone, "created"
        )
    try:
        tx.db.execute(
            "INSERT INTO users (site, id, lifecycle, first_name, last_name, username, email, number,"
            " extension, package, options, services, desk_phone, mobile, deactivation, activate_at,"
            " login_username, secret_hash, login_issued_at)"
            " VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
            (
                tx.site,
                user_id,
                values["first_name"],
                values["last_name"],
                username,
                values.get("email"),
                values["number"],
                values["extension"],
                package,
                encode_names(tuple(options)),
                encode_names(tuple(services)),
                desk_phone,
                json.dumps(values["mobile"]) if values.get("mobile") else None,
                tx.activate_at(),
                credential.login_username if credential else None,
                secret_hash if credential else None,
                credential.issued_at if credential else None,
            ),
        )
    except sqlite3.IntegrityError as e:
        if "users.id" in str(e):
            raise ConflictError(f"user {user_id} already exists") from None
        raise RefusedError("username-unique", f"username {username} is taken") from None
    tx.claim("numbers", values["number"], "user", user_id)
    tx.claim("extensions", values["extension"], "user", user_id)
    tx.count_licences((), [package, *options])
    tx.check_licences([package, *options])
    return credential


def _update_columns(tx: SiteTx, user_id: str, values: dict[str, Any]) -> None:
    if not values:
        return
    columns = ", ".join(f"{name} = ?" for name in values)
    encoded = [json.dumps(v) if isinstance(v, list | dict | tuple) else v for v in values.values()]
    tx.db.execute(
        f"UPDATE users SET {columns} WHERE site = ? AND id = ?", (*encoded, tx.site, user_id)
    )


def _update_config(tx: SiteTx, row: sqlite3.Row, values: dict[str, Any]) -> Credential | None:
    user_id = row["id"]
    cat = tx.catalogue
    if "package" in values:
        tx.check_catalogue("package", [values["package"]], cat.packages)
    if "options" in values:
        tx.check_catalogue("option", values["options"], cat.options)
        _check_agent_options(tx, user_id, values["options"])
    if "desk_phone" in values:
        tx.check_catalogue("desk phone", [values["desk_phone"]], cat.desk_phones)
    if "number" in values:
        tx.move("numbers", row["number"], values["number"], "user", user_id)
    if "extension" in values:
        tx.move("extensions", row["extension"], values["extension"], "user", user_id)
    try:
        _update_columns(tx, user_id, values)
    except sqlite3.IntegrityError:
        raise RefusedError("username-unique", f"username {values['username']} is taken") from None
    if "package" in values or "options" in values:
        tx.count_licences(licence_names(row), licence_names(row, values))
    tx.check_licences([values.get("package", ""), *values.get("options", ())])
    new_phone = values.get("desk_phone")
    if new_phone is None or new_phone == row["desk_phone"]:
        return None
    if new_phone == NO_DESK_PHONE:
        tx.db.execute(
            "UPDATE users SET login_username = NULL, secret_hash = NULL, login_issued_at = NULL "
            "WHERE site = ? AND id = ?",
            (tx.site, user_id),
        )
        return None
    return issue_login(tx, tx.user(user_id), "created")  # a new phone gets new login details


def _check_agent_options(tx: SiteTx, user_id: str, options: list[str]) -> None:
    level = tx.catalogue.agent_level(tuple(options))
    for centre, settings in tx.db.execute(
        "SELECT g.id, g.settings FROM members m JOIN groups g ON g.site = m.site AND g.type = m.type"
        " AND g.id = m.group_id WHERE m.site = ? AND m.user_id = ? AND m.role = 'agents'",
        (tx.site, user_id),
    ).fetchall():
        edition = json.loads(settings)["edition"]
        if level < tx.catalogue.edition_levels[edition]:
            raise RefusedError(
                "agent-option",
                f"user {user_id} is an agent of call centre "
                f"{centre} ({edition}) and needs its agent option",
            )


def delete(tx: SiteTx, row: sqlite3.Row) -> None:
    """Irreversible: frees the number and extension at once; the platform removes the
    user from every group. Its members rows go first, by their index: left to the
    cascade, each would cost a check of its group as well (a third of the deletion)."""
    tx.release("numbers", row["number"])
    tx.release("extensions", row["extension"])
    tx.db.execute("DELETE FROM members WHERE site = ? AND user_id = ?", (tx.site, row["id"]))
    tx.db.execute("DELETE FROM users WHERE site = ? AND id = ?", (tx.site, row["id"]))
    tx.count_licences(licence_names(row), ())


def licence_names(row: sqlite3.Row, values: dict[str, Any] | None = None) -> list[str]:
    """The package and options of a stored user, or of it changed by `values`."""
    values = values or {}
    options = values["options"] if "options" in values else _names_column(row["options"], "options")
    return [values.get("package", row["package"]), *options]


def issue_login(
    tx: SiteTx, row: sqlite3.Row, event: str, password: str | None = None
) -> Credential:
    """New desk phone login details for an existing user."""
    if row["desk_phone"] == NO_DESK_PHONE:
        raise RefusedError("desk-phone", f"user {row['id']} has no desk phone")
    credential, secret_hash = new_login(
        tx,
        row["id"],
        row["username"],
        row["number"],
        row["extension"],
        row["desk_phone"],
        event,
        password,
    )
    tx.db.execute(
        "UPDATE users SET login_username = ?, secret_hash = ?, login_issued_at = ? "
        "WHERE site = ? AND id = ?",
        (credential.login_username, secret_hash, credential.issued_at, tx.site, row["id"]),
    )
    return credential


def new_login(
    tx: SiteTx,
    user_id: str,
    username: str,
    number: str,
    extension: str,
    desk_phone: str,
    event: str,
    password: str | None = None,
) -> tuple[Credential, str]:
    """Login details and the salted hash to store; the password itself is never stored."""
    chosen = password is not None
    secret = password if chosen else generate_password()
    credential = Credential(
        tx.site,
        user_id,
        username,
        number,
        extension,
        desk_phone,
        f"{username}.{extension}",
        secret,
        now_iso(),
        event,
    )
    return credential, hash_password(secret, chosen=chosen)


@cache
def encode_names(names: tuple[str, ...]) -> str:
    """Options and services lists repeat across a site: encode each distinct one once."""
    return json.dumps(list(names))


@cache
def _names(encoded: str) -> tuple[str, ...]:
    """Options and services lists repeat across a site: decode each distinct one once."""
    names = json.loads(encoded)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{encoded!r} is not a list of names")
    return tuple(names)


STATE_COLUMNS = (
    "id",
    "lifecycle",
    "first_name",
    "last_name",
    "username",
    "number",
    "extension",
    "package",
    "email",
    "options",
    "services",
    "desk_phone",
    "mobile",
    "deactivation",
)
SELECT_STATE = ", ".join(STATE_COLUMNS)  # the columns `from_columns` reads, in its order


def to_current(row: sqlite3.Row) -> Current[User]:
    """One stored user, from a row holding at least STATE_COLUMNS."""
    return from_columns(tuple(row[column] for column in STATE_COLUMNS))


def from_columns(values: tuple[Any, ...]) -> Current[User]:
    """One stored user from the values of STATE_COLUMNS, in that order: read for every
    user of every plan, so by position rather than by column name. The columns from
    first_name to email are the User's fields of the same names, in its order."""
    user_id, stored_lifecycle, *as_stored, options, services, desk_phone, mobile, gone = values
    lifecycle = records.lifecycle_value(stored_lifecycle)
    mobile = records.json_mapping_value(mobile, "mobile", "number", "contract")
    gone = records.json_mapping_value(gone, "deactivation", "transfer_to", "caller")
    user = User(
        user_id,
        *as_stored,
        _names_column(options, "options"),
        _names_column(services, "services"),
        desk_phone,
        Mobile(mobile["number"], mobile["contract"]) if mobile else None,
        DEACTIVATED if lifecycle is D else "active",
        Deactivation(gone["transfer_to"], gone["caller"]) if gone else None,
    )
    return Current(user, lifecycle)


def _names_column(stored: Any, column: str) -> tuple[str, ...]:
    try:
        return _names(stored)
    except (ValueError, TypeError) as e:
        raise RecordError(f"column {column} holds bad JSON ({e})") from None


def store_secret(db: sqlite3.Connection, site: str, user_id: str, password: str) -> None:
    """Keep `password` as the user's desk phone password instead of the one just
    issued: the OCI-P peer's clients generate device passwords themselves (and
    record them before sending). Called inside the transaction that issued them."""
    db.execute(
        "UPDATE users SET secret_hash = ? WHERE site = ? AND id = ?",
        (hash_password(password), site, user_id),
    )
