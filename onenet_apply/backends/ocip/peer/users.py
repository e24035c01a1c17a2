"""The peer's user requests: BroadWorks users, devices and services on the sandbox.

Writes are gathered per user and carried out at the end of the document
(`user_drafts`); reads answer from the sandbox's rows at once (`sandbox_view`).
A site the sandbox lacks reads as an unknown group, and is created by its first
write. Each group's domain is `fallback_domain(enterprise, site)`, the one the
backend uses for a group it cannot read, so ids stay the same once it exists.
"""

from __future__ import annotations

from typing import Any

from onenet_apply.backends.base import NotFoundError, RefusedError
from onenet_apply.backends.ocip import codec, naming
from onenet_apply.backends.ocip.peer import sandbox_view as view
from onenet_apply.backends.ocip.peer.context import Handler, PeerContext
from onenet_apply.backends.ocip.peer.user_drafts import Device, Draft, Held, document, draft
from onenet_apply.backends.ocip.peer.user_drafts import end_document as end_document
from onenet_apply.backends.ocip.peer.user_reads import READS
from onenet_apply.model.spec import NO_DESK_PHONE

MAPPING = view.MAPPING
TIME_ZONE = ("Europe/Berlin", "(GMT+01:00) Europe/Berlin")
NULL = codec.NULL


# -- writes: held until the document ends ------------------------------------------------
def device_add(ctx: PeerContext, request: Any) -> Any:
    site = view.site_of(ctx, request.service_provider_id, request.group_id)
    desk_phone = MAPPING.device_names().get(request.device_type)
    if desk_phone is None:
        raise RefusedError("catalogue", f"unknown device type {request.device_type!r}")
    credentials = request.access_device_credentials
    held = Held()
    password = credentials.password if credentials else None
    document(ctx).devices[(site, request.device_name)] = Device(desk_phone, password, held)
    return held


def user_add(ctx: PeerContext, request: Any) -> Any:
    site = view.site_of(ctx, request.service_provider_id, request.group_id)
    who = view.ref(ctx, request.user_id)
    item = draft(ctx, who)
    if who.site != site:
        item.error = NotFoundError(f"user {request.user_id} is not of group {site}")
    alternates = request.alternate_user_id or []
    item.add = {
        "first_name": request.first_name,
        "last_name": request.last_name,
        "username": _username(who, alternates[0].alternate_user_id if alternates else None),
        "number": naming.e164(request.phone_number),
        "extension": request.extension,
        "email": request.email_address,
        "mobile": _mobile(request.mobile_phone_number, request.address_location),
    }
    _use_device(ctx, item, naming.endpoint_device(request.access_device_endpoint))
    return Held(item)


def user_modify(ctx: PeerContext, request: Any) -> Any:
    item = draft(ctx, view.ref(ctx, request.user_id))
    fields = item.fields
    for name, value in (
        ("first_name", request.first_name),
        ("last_name", request.last_name),
        ("email", request.email_address),
        ("number", request.phone_number),
        ("extension", request.extension),
    ):
        if value is not None:
            fields[name] = None if value is NULL else value
    if fields.get("number"):
        fields["number"] = naming.e164(fields["number"])
    alternates = request.alternate_user_id_list
    if alternates is not None:
        entries = [] if alternates is NULL else alternates.alternate_user_id
        fields["username"] = _username(item.who, entries[0].alternate_user_id if entries else None)
    if request.mobile_phone_number is not None or request.address_location is not None:
        number, contract = request.mobile_phone_number, request.address_location
        fields["mobile"] = _mobile(None if number is NULL else number, contract)
    endpoint = request.endpoint
    if endpoint is NULL:
        fields["desk_phone"] = NO_DESK_PHONE
    elif endpoint:
        _use_device(ctx, item, naming.endpoint_device(endpoint.get("access_device_endpoint")))
        if item.device is not None:
            fields["desk_phone"] = item.device.desk_phone
    return Held(item)


def assign(ctx: PeerContext, request: Any) -> Any:
    return _services(ctx, request, on=True)


def unassign(ctx: PeerContext, request: Any) -> Any:
    return _services(ctx, request, on=False)


def intercept_modify(ctx: PeerContext, request: Any) -> Any:
    item = draft(ctx, view.ref(ctx, request.user_id))
    deactivation = None
    if request.play_new_phone_number and request.new_phone_number:
        deactivation = {"transfer_to": request.new_phone_number, "caller": "hears-number"}
    elif request.transfer_on_zero_to_phone_number and request.transfer_phone_number:
        deactivation = {"transfer_to": request.transfer_phone_number, "caller": "presses-key"}
    item.intercept = {"active": bool(request.is_active), "deactivation": deactivation}
    return Held(item)


def user_delete(ctx: PeerContext, request: Any) -> Any:
    item = draft(ctx, view.ref(ctx, request.user_id))
    item.delete = True
    return Held(item)


def device_delete(ctx: PeerContext, request: Any) -> Any:
    """A device whose user leaves it in this document goes with that change; one
    still some user's desk phone is refused; any other is gone already."""
    site = view.site_of(ctx, request.service_provider_id, request.group_id)
    for who, item in document(ctx).drafts.items():
        if who.site == site and _device_of(ctx, item) == request.device_name:
            return Held(item)
    owner = view.device_owner(ctx, site, request.device_name)
    if owner is not None:
        raise RefusedError(
            "device-in-use", f"device {request.device_name} is the desk phone of user {owner[1]}"
        )
    return codec.success()


def device_modify(ctx: PeerContext, request: Any) -> Any:
    """New login details for a desk phone: the sandbox's `set_password`, its rules."""
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    owner = view.device_owner(ctx, site, request.device_name)
    if owner is None:
        raise NotFoundError(f"device not found: {request.device_name}")
    credentials = request.access_device_credentials
    if credentials is not None and credentials is not NULL:
        ctx.sandbox.set_password(site, owner[1], credentials.password)
    return codec.success()


def _services(ctx: PeerContext, request: Any, on: bool) -> Any:
    item = draft(ctx, view.ref(ctx, request.user_id))
    packs, services = MAPPING.pack_names(), MAPPING.service_names()
    for name in request.service_pack_name or ():
        if name not in packs:
            item.error = RefusedError("catalogue", f"unknown service pack {name!r}")
        (item.packs_on if on else item.packs_off).append(packs.get(name, name))
    for name in request.service_name or ():
        if name == naming.INTERCEPT:
            continue  # a deactivation's part: Intercept User's settings decide
        if name not in services:
            item.error = RefusedError("catalogue", f"unknown user service {name!r}")
        (item.services_on if on else item.services_off).append(services.get(name, name))
    return Held(item)


def _use_device(ctx: PeerContext, item: Draft, name: str | None) -> None:
    if name is None:
        return
    device = document(ctx).devices.get((item.who.site, name))
    if device is not None:
        item.device = device
        device.held.draft = item
    elif name != _device_of(ctx, item):
        item.error = NotFoundError(f"device not found: {name}")


def _device_of(ctx: PeerContext, item: Draft) -> str | None:
    """The name of the device the user has now (before this document)."""
    row = view.row(ctx, item.who)
    if row is None or row["desk_phone"] == NO_DESK_PHONE:
        return None
    return naming.device_name(item.who.local, MAPPING.devices.get(row["desk_phone"], ""))


def _username(who: view.UserRef, alternate: str | None) -> str:
    return alternate.rpartition("@")[0] if alternate else who.local


def _mobile(number: str | None, contract: Any) -> dict[str, str] | None:
    if not number or not contract or contract is NULL:
        return None
    return {"number": naming.e164(number) or "", "contract": str(contract)}


HANDLERS: dict[str, Handler] = {
    "GroupAccessDeviceAddRequest22V2": device_add,
    "GroupAccessDeviceModifyRequest22": device_modify,
    "GroupAccessDeviceDeleteRequest": device_delete,
    "UserAddRequest22V2": user_add,
    "UserModifyRequest22": user_modify,
    "UserDeleteRequest": user_delete,
    "UserServiceAssignListRequest": assign,
    "UserServiceUnassignListRequest": unassign,
    "UserInterceptUserModifyRequest21sp1": intercept_modify,
    **READS,
}
