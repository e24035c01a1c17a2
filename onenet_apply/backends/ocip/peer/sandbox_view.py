"""What the peer reads from the sandbox for one request: a user, a page of users,
the site's numbers with their activation, its desk phones. Rows are read through
the sandbox's own `to_current`, so the peer reports exactly what the sandbox
stores; whole-site reads (`read_state`) would cost a site per request.

Site and ids: each sandbox site is a group of the peer's enterprise, and a user
id is `ID@DOMAIN` with the group's domain `fallback_domain(enterprise, site)`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from onenet_apply.backends.base import NotFoundError
from onenet_apply.backends.ocip import naming
from onenet_apply.backends.ocip.link import fallback_domain
from onenet_apply.backends.ocip.peer.context import PeerContext
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.backends.sandbox import carrier
from onenet_apply.backends.sandbox import users as sandbox_users
from onenet_apply.backends.sandbox.store import transaction
from onenet_apply.model.spec import NO_DESK_PHONE, User
from onenet_apply.model.state import Current

MAPPING = ServiceMapping.default()  # the peer's BroadWorks names: the backend's default


@dataclass(frozen=True, slots=True)
class UserRef:
    site: str
    local: str

    def user_id(self, ctx: PeerContext) -> str:
        return f"{self.local}@{fallback_domain(ctx.enterprise, self.site)}"


def domain(ctx: PeerContext, site: str) -> str:
    return fallback_domain(ctx.enterprise, site)


def site_of(ctx: PeerContext, enterprise: str | None, group: str | None) -> str:
    """The sandbox site a request's enterprise and group name (it may not exist yet)."""
    if enterprise != ctx.enterprise or not group:
        raise NotFoundError(f"no group {group} in enterprise {enterprise}")
    return group


def has_site(ctx: PeerContext, site: str) -> bool:
    db = ctx.sandbox.db
    return db.execute("SELECT 1 FROM sites WHERE id = ?", (site,)).fetchone() is not None


def existing_site(ctx: PeerContext, enterprise: str | None, group: str | None) -> str:
    site = site_of(ctx, enterprise, group)
    if not has_site(ctx, site):
        raise NotFoundError(f"group not found: {group}")
    _tick(ctx, site)
    return site


def ref(ctx: PeerContext, user_id: str) -> UserRef:
    """The site and id of a BroadWorks user id of the peer's domains."""
    local, _, user_domain = user_id.rpartition("@")
    suffix = f".{ctx.enterprise}.invalid"
    if not local or not user_domain.endswith(suffix):
        raise NotFoundError(f"user not found: {user_id}")
    return UserRef(user_domain.removesuffix(suffix), local)


def row(ctx: PeerContext, who: UserRef) -> sqlite3.Row | None:
    return ctx.sandbox.db.execute(  # type: ignore[no-any-return]
        "SELECT * FROM users WHERE site = ? AND id = ?", (who.site, who.local)
    ).fetchone()


def user(ctx: PeerContext, who: UserRef) -> Current[User]:
    _tick(ctx, who.site)
    found = row(ctx, who)
    if found is None:
        raise NotFoundError(f"user not found: {who.local}@{domain(ctx, who.site)}")
    return sandbox_users.to_current(found)


def page(ctx: PeerContext, site: str, start: int, size: int) -> list[User]:
    """Users `start` (from 1) to `start + size - 1`, by id."""
    rows = ctx.sandbox.db.execute(
        "SELECT * FROM users WHERE site = ? ORDER BY id LIMIT ? OFFSET ?",
        (site, size, max(0, start - 1)),
    )
    return [sandbox_users.to_current(r).item for r in rows]


def numbers(ctx: PeerContext, site: str) -> Iterator[tuple[str, str, str, bool]]:
    """(number, owner type, owner id, activated) of every number of the site. A
    failed activation reads as not activated: OCI-P has no failed."""
    yield from ctx.sandbox.db.execute(
        "SELECT n.number, n.owner_type, n.owner_id,"
        " COALESCE(u.lifecycle, g.lifecycle) IN ('activated', 'deactivated')"
        " FROM numbers n"
        " LEFT JOIN users u ON n.owner_type = 'user' AND u.site = n.site AND u.id = n.owner_id"
        " LEFT JOIN groups g ON n.owner_type != 'user' AND g.site = n.site"
        "  AND g.type = n.owner_type AND g.id = n.owner_id"
        " WHERE n.site = ? ORDER BY n.number",
        (site,),
    )


def devices(ctx: PeerContext, site: str) -> Iterator[tuple[str, str, str]]:
    """(device name, device type, user id) of every desk phone of the site."""
    for local, desk_phone in ctx.sandbox.db.execute(
        "SELECT id, desk_phone FROM users WHERE site = ? AND desk_phone != ? ORDER BY id",
        (site, NO_DESK_PHONE),
    ):
        device_type = MAPPING.devices.get(desk_phone, desk_phone)
        yield naming.device_name(local, device_type), device_type, local


def device_owner(ctx: PeerContext, site: str, name: str) -> tuple[str, str] | None:
    """(device type, user id) of the desk phone named `name`, if a user has it."""
    return next(((t, local) for n, t, local in devices(ctx, site) if n == name), None)


def _tick(ctx: PeerContext, site: str) -> None:
    """The carrier's timed activations, as the sandbox's own reads do them."""
    db = ctx.sandbox.db
    found = db.execute("SELECT activation FROM sites WHERE id = ?", (site,)).fetchone()
    if found is not None and found[0] != "manual":
        with transaction(db):
            carrier.tick(db, site)
