"""Load a whole validated site into the sandbox in one transaction, as activated.

For benchmarks and test fixtures that need a large, settled site without replaying
thousands of actions: the spec has passed validation, so the platform's rules hold.
Desk phones get login details whose passwords are thrown away at once, as if they had
been lost: `onenet credentials reset` issues usable ones.
"""

from __future__ import annotations

import json
import sqlite3

from onenet_apply.backends.sandbox.site_settings import keep
from onenet_apply.backends.sandbox.store import count_licences_afresh, now_iso, transaction
from onenet_apply.model.fields import GROUP_LISTS, group_fields, user_fields
from onenet_apply.model.passwords import generate_password, hash_password
from onenet_apply.model.spec import SiteSpec
from onenet_apply.model.vocabulary import SECTION_OF


def seed(db: sqlite3.Connection, spec: SiteSpec) -> None:
    site = spec.site.id
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO sites (id, created_at) VALUES (?, ?)", (site, now_iso()))
        keep(db, spec.site)  # its site settings, as an apply keeps them
        users, numbers, extensions = [], [], []
        issued = now_iso()
        for uid, user in spec.users.items():
            f = user_fields(user)
            deactivation = (
                {"transfer_to": user.deactivation.transfer_to, "caller": user.deactivation.caller}
                if user.deactivation
                else None
            )
            login = (
                (f"{user.username}.{user.extension}", hash_password(generate_password()), issued)
                if user.desk_phone != "none"
                else (None, None, None)
            )
            users.append(
                (
                    site,
                    uid,
                    "deactivated" if deactivation else "activated",
                    f["first_name"],
                    f["last_name"],
                    f["username"],
                    f["email"],
                    f["number"],
                    f["extension"],
                    f["package"],
                    json.dumps(f["options"]),
                    json.dumps(f["services"]),
                    f["desk_phone"],
                    json.dumps(f["mobile"]) if f["mobile"] else None,
                    json.dumps(deactivation) if deactivation else None,
                    *login,
                )
            )
            numbers.append((site, user.number, "user", uid))
            extensions.append((site, user.extension, "user", uid))
        db.executemany(
            "INSERT INTO users (site, id, lifecycle, first_name, last_name, username, email,"
            " number, extension, package, options, services, desk_phone, mobile, deactivation,"
            " login_username, secret_hash, login_issued_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            users,
        )
        groups, members = [], []
        for group_type, section in SECTION_OF.items():
            if group_type == "user":
                continue
            for gid, group in getattr(spec, section).items():
                f = group_fields(group_type, group)
                settings = {
                    k: f[k] for k in ("policy", "no_answer", "edition", "recall_timer") if k in f
                }
                groups.append(
                    (
                        site,
                        group_type,
                        gid,
                        "activated",
                        f["name"],
                        f.get("number"),
                        f.get("extension"),
                        json.dumps(settings),
                    )
                )
                if "number" in f:
                    numbers.append((site, f["number"], group_type, gid))
                    extensions.append((site, f["extension"], group_type, gid))
                weights = f.get("weights") or {}
                for role in GROUP_LISTS[group_type]:
                    if role == "weights":
                        continue
                    members += [
                        (site, group_type, gid, role, i, uid, weights.get(uid))
                        for i, uid in enumerate(f[role])
                    ]
        db.executemany(
            "INSERT INTO groups (site, type, id, lifecycle, name, number, extension, settings)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            groups,
        )
        db.executemany("INSERT INTO numbers VALUES (?, ?, ?, ?)", numbers)
        db.executemany("INSERT INTO extensions VALUES (?, ?, ?, ?)", extensions)
        db.executemany("INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?)", members)
        count_licences_afresh(db, site)  # a site with limits keeps its licence counts
