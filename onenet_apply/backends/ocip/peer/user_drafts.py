"""One document's changes to each user, carried out whole at the end of the document.

BroadWorks splits what the sandbox does in one action: a new user is an access
device, a user and its service packs; a new desk phone is a device added, the
user's endpoint moved and the old device deleted. The peer gathers a document's
requests for one user into a `Draft` and, when the document ends, runs the
sandbox action(s) they amount to, so the sandbox's rules hold and a refusal
answers every request of that user's draft (the backend then sees nothing
changed). The peer is more atomic than BroadWorks; the backend does not rely on
it. Device passwords come from the client: the one the sandbox issues is
replaced, in the same transaction, by the client's (`sandbox.users.store_secret`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from onenet_apply.backends.base import BackendError, Credential, NotFoundError, RefusedError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.peer import sandbox_view as view
from onenet_apply.backends.ocip.peer.context import PeerContext, fault_for
from onenet_apply.backends.sandbox import users as sandbox_users
from onenet_apply.model.fields import user_fields
from onenet_apply.model.plan import Action, Change, Kind, Target
from onenet_apply.model.spec import DEACTIVATED, NO_DESK_PHONE
from onenet_apply.model.vocabulary import CONFIG, PROFILE

DOCUMENT_KEY = "user_drafts"


@dataclass(slots=True)
class Device:
    """An access device added in this document: its type and login details."""

    desk_phone: str
    password: str | None
    held: Held


@dataclass(slots=True)
class Draft:
    who: view.UserRef
    add: dict[str, Any] | None = None  # UserAdd's values
    fields: dict[str, Any] = field(default_factory=dict)  # site file field -> new value
    packs_on: list[str] = field(default_factory=list)  # catalogue words
    packs_off: list[str] = field(default_factory=list)
    services_on: list[str] = field(default_factory=list)
    services_off: list[str] = field(default_factory=list)
    intercept: dict[str, Any] | None = None  # {"active": bool, "deactivation": ...}
    delete: bool = False
    device: Device | None = None
    error: BackendError | None = None  # a request of the draft the peer cannot take
    outcome: Any = None


@dataclass(slots=True)
class Held:
    """An answer given when the document ends: its draft's outcome (success without one)."""

    draft: Draft | None = None

    def answer(self) -> Any:
        return self.draft.outcome if self.draft is not None else codec.success()


@dataclass(slots=True)
class Document:
    drafts: dict[view.UserRef, Draft] = field(default_factory=dict)
    devices: dict[tuple[str, str], Device] = field(default_factory=dict)  # (site, name)


def document(ctx: PeerContext) -> Document:
    found = ctx.document.get(DOCUMENT_KEY)
    if found is None:
        found = ctx.document[DOCUMENT_KEY] = Document()
    return found  # type: ignore[no-any-return]


def draft(ctx: PeerContext, who: view.UserRef) -> Draft:
    drafts = document(ctx).drafts
    if who not in drafts:
        drafts[who] = Draft(who)
    return drafts[who]


def end_document(ctx: PeerContext, answers: Sequence[Any]) -> list[Any]:
    """Carry out every draft of the document; each held answer becomes its outcome."""
    held = ctx.document.pop(DOCUMENT_KEY, None)
    if held is not None:
        for item in held.drafts.values():
            item.outcome = commit(ctx, item)
    return [a.answer() if isinstance(a, Held) else a for a in answers]


def commit(ctx: PeerContext, item: Draft) -> Any:
    """The draft as sandbox actions: success, or the sandbox's refusal as a fault."""
    password = item.device.password if item.device else None

    def record(credentials: Sequence[Credential]) -> None:
        if password and credentials:  # in the sandbox's transaction: the client's is kept
            sandbox_users.store_secret(ctx.sandbox.db, item.who.site, item.who.local, password)

    try:
        if item.error is not None:
            raise item.error
        for action in actions(ctx, item):
            ctx.sandbox.execute(item.who.site, action, record)
    except BackendError as e:
        return fault_for(e)
    return codec.success()


def actions(ctx: PeerContext, item: Draft) -> list[Action]:
    target = Target("user", item.who.local)
    if item.add is not None:
        return [_action(Kind.CREATE, target, _new_user(item))]
    if view.row(ctx, item.who) is None:
        raise NotFoundError(f"user not found: {item.who.user_id(ctx)}")
    if item.delete:
        return [_action(Kind.DELETE, target, {})]
    current = view.user(ctx, item.who).item
    if item.intercept is not None:
        if item.intercept["active"]:
            values = {"status": DEACTIVATED, "deactivation": item.intercept["deactivation"]}
            return [_action(Kind.DEACTIVATE, target, values)]
        return [_action(Kind.REACTIVATE, target, {"status": "active"})]
    have = user_fields(current)
    want = _changed(have, item)
    out = []
    for kind, names in ((Kind.UPDATE_PROFILE, PROFILE), (Kind.UPDATE_CONFIG, CONFIG)):
        values = {k: want[k] for k in names if want[k] != have[k]}
        if values:
            out.append(_action(kind, target, values))
    return out


def _action(kind: Kind, target: Target, values: dict[str, Any]) -> Action:
    changes = tuple(Change(k, None, v) for k, v in values.items())
    return Action(f"{target}/{kind}", kind, target, changes)


def _new_user(item: Draft) -> dict[str, Any]:
    values = dict(item.add or {})
    packages = [p for p in item.packs_on if p in view.MAPPING.catalogue.packages]
    if not packages:
        raise RefusedError("catalogue", f"user {item.who.local} needs a package (a service pack)")
    values["package"] = packages[0]
    values["options"] = [p for p in item.packs_on if p not in packages[:1]]
    values["services"] = list(item.services_on)
    values["desk_phone"] = item.device.desk_phone if item.device else NO_DESK_PHONE
    return values


def _changed(have: dict[str, Any], item: Draft) -> dict[str, Any]:
    """The user's fields once the draft's modifications and assignments are made;
    what is assigned comes first, in the order assigned (`_reordered`)."""
    want = {**have, **item.fields}
    packages = view.MAPPING.catalogue.packages
    packs = _reordered([have["package"], *have["options"]], item.packs_off, item.packs_on)
    want["package"] = next((p for p in packs if p in packages), have["package"])
    want["options"] = [p for p in packs if p not in packages]
    want["services"] = _reordered(have["services"], item.services_off, item.services_on)
    return want


def _reordered(have: list[str], off: list[str], on: list[str]) -> list[str]:
    kept = [w for w in have if w not in off]
    return [*dict.fromkeys(on), *(w for w in kept if w not in on)]
