"""The sandbox's groups as the peer sees them: which site a service user id
names, one group's record, the groups of a kind, and writes as sandbox actions.

Reads go straight to the sandbox's tables for one group (reading the whole
site per request would cost the whole site per group); writes go through
`SandboxBackend.execute`, so every rule of the sandbox holds and a refusal
comes back as its `BackendError`.
"""

from __future__ import annotations

from typing import Any

from onenet_apply.backends.base import ConflictError, NotFoundError
from onenet_apply.backends.ocip.instance_names import InstanceName, decode
from onenet_apply.backends.ocip.peer import sandbox_view
from onenet_apply.backends.ocip.peer.context import PeerContext
from onenet_apply.backends.sandbox import groups as sandbox_groups
from onenet_apply.backends.sandbox.records import json_mapping
from onenet_apply.model.plan import Action, Kind, Target
from onenet_apply.model.state import Current

DEFAULT_RECALL_TIMER = 120  # BroadWorks' default call park recall timer


def domain_of(ctx: PeerContext, site: str) -> str:
    """The peer's user id domain of a site (the backend's fallback form)."""
    return sandbox_view.domain(ctx, site)


def site_of(ctx: PeerContext, user_id: str) -> tuple[str, str]:
    """(site, local id) of a user or service user id `LOCAL@SITE.ENTERPRISE.invalid`."""
    try:
        who = sandbox_view.ref(ctx, user_id)
    except NotFoundError:
        raise NotFoundError(f"{user_id}: not a user id of enterprise {ctx.enterprise}") from None
    return who.site, who.local


def local_ids(ctx: PeerContext, site: str, user_ids: Any) -> list[str]:
    """Site-file ids of user ids sent for `site` (a user of another site is refused)."""
    out = []
    for user_id in user_ids or ():
        where, local = site_of(ctx, user_id)
        if where != site:
            raise NotFoundError(f"{user_id} is not a user of group {site}")
        out.append(local)
    return out


def decode_name(text: str) -> InstanceName:
    """A pickup or park group's instance name, as this tool writes them."""
    name = decode(text)
    if name is None:
        raise ConflictError(f"{text!r}: this peer names pickup and park groups `NAME [ID]`")
    return name


def check_enterprise(ctx: PeerContext, enterprise: str) -> None:
    if enterprise != ctx.enterprise:
        raise NotFoundError(f"no service provider {enterprise} (this peer serves {ctx.enterprise})")


def write(
    ctx: PeerContext, site: str, kind: Kind, group_type: str, group_id: str, values: dict[str, Any]
) -> None:
    """One sandbox action; the sandbox's refusal propagates."""
    target = Target(group_type, group_id)
    action = Action.make(kind, target, {k: (None, v) for k, v in values.items()})
    ctx.sandbox.execute(site, action)


def group(ctx: PeerContext, site: str, group_type: str, group_id: str) -> Current[Any]:
    row = ctx.sandbox.db.execute(
        "SELECT * FROM groups WHERE site = ? AND type = ? AND id = ?", (site, group_type, group_id)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no {group_type.replace('_', ' ')} {group_id} in group {site}")
    return _current(ctx, site, row)


def groups(ctx: PeerContext, site: str, group_type: str) -> list[Current[Any]]:
    rows = ctx.sandbox.db.execute(
        "SELECT * FROM groups WHERE site = ? AND type = ? ORDER BY id", (site, group_type)
    ).fetchall()
    return [_current(ctx, site, row) for row in rows]


def weights(ctx: PeerContext, site: str, group_id: str) -> dict[str, int | None]:
    """A hunt group's stored weight of each member, whatever its policy."""
    return dict(
        ctx.sandbox.db.execute(
            "SELECT user_id, weight FROM members WHERE site = ? AND type = 'hunt_group' "
            "AND group_id = ? ORDER BY position",
            (site, group_id),
        ).fetchall()
    )


def named(ctx: PeerContext, site: str, group_type: str) -> list[tuple[str, str, int | None]]:
    """(id, name, recall timer) of each pickup or park group of the site, by id: what
    an instance list shows, read without the members (a client lists them before
    each write, so reading whole groups would cost the site's groups per write)."""
    rows = ctx.sandbox.db.execute(
        "SELECT id, name, settings FROM groups WHERE site = ? AND type = ? ORDER BY id",
        (site, group_type),
    )
    return [
        (r["id"], r["name"], (json_mapping(r, "settings") or {}).get("recall_timer")) for r in rows
    ]


def recall_timer(ctx: PeerContext, site: str) -> int:
    """The site's call park recall timer: that of the park groups which state one."""
    for _, _, timer in named(ctx, site, "call_park_group"):
        if timer is not None:
            return int(timer)
    return DEFAULT_RECALL_TIMER


def _current(ctx: PeerContext, site: str, row: Any) -> Current[Any]:
    lists: dict[str, list[tuple[str, int | None]]] = {}
    for role, user_id, weight in ctx.sandbox.db.execute(
        "SELECT role, user_id, weight FROM members WHERE site = ? AND type = ? AND group_id = ? "
        "ORDER BY role, position",
        (site, row["type"], row["id"]),
    ):
        lists.setdefault(role, []).append((user_id, weight))
    return sandbox_groups.to_current(row, lists)
