"""The peer's user requests: BroadWorks users, devices and services on the sandbox.

Writes are gathered per user and carried out at the end of the document
(`user_drafts`); reads answer from the sandbox's rows at once (`sandbox_view`).
A site the sandbox lacks reads as an unknown group, and is created by its first
write. Each group's domain is `fallback_domain(enterprise, site)`, the one the
backend uses for a group it cannot read, so ids stay the same once it exists.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from onenet_apply.backends.base import NotFoundError, RefusedError
from onenet_apply.backends.ocip import codec, naming
from onenet_apply.backends.ocip.peer import sandbox_view as view
from onenet_apply.backends.ocip.peer.context import Handler, PeerContext
from onenet_apply.backends.ocip.peer.user_drafts import Device, Draft, Held, document, draft
from onenet_apply.backends.ocip.peer.user_drafts import end_document as end_document
from onenet_apply.model.spec import NO_DESK_PHONE, User
from onenet_apply.model.state import Lifecycle

MAPPING = view.MAPPING
TIME_ZONE = ("Europe/Berlin", "(GMT+01:00) Europe/Berlin")
NULL = codec.NULL

UserRow = namedtuple(
    "UserRow",
    "user_id last_name first_name department department_type parent_department"
    " parent_department_type phone_number phone_number_activated email_address"
    " hiragana_last_name hiragana_first_name in_trunk_group extension country_code"
    " national_prefix user_external_id",
)
DnRow = namedtuple(
    "DnRow",
    "phone_numbers department activated user_id last_name first_name extension"
    " email_address user_type country_code national_prefix",
)
DeviceRow = namedtuple(
    "DeviceRow",
    "device_name device_type available_ports net_address mac_address status version"
    " access_device_external_id",
)
PackRow = namedtuple("PackRow", "service_pack_name assigned description")
ServiceRow = namedtuple("ServiceRow", "service_name assigned")
LicenceRow = namedtuple(
    "LicenceRow",
    "service_pack_name authorized assigned limited allocated allowed usage description",
)
USER_TYPES = {"user": "Normal", "hunt_group": "Hunt Group", "call_centre": "Call Center"}


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
        raise NotFoundError(f"[Error 4xxx] Device not found: {request.device_name}")
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
        item.error = NotFoundError(f"[Error 4xxx] Device not found: {name}")


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


# -- reads: answered at once ----------------------------------------------------------------
def group_get(ctx: PeerContext, request: Any) -> Any:
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    (count,) = ctx.sandbox.db.execute("SELECT COUNT(*) FROM users WHERE site = ?", (site,)).fetchone()
    return _response(
        "GroupGetResponse22V5",
        default_domain=view.domain(ctx, site),
        user_limit=999999,
        user_count=count,
        group_name=site,
        time_zone=TIME_ZONE[0],
        time_zone_display_name=TIME_ZONE[1],
        service_provider_id=ctx.enterprise,
        group_id=site,
    )


def user_list(ctx: PeerContext, request: Any) -> Any:
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    paging = request.response_paging_control
    start, size = (int(paging.response_start_index), int(paging.response_page_size)) if paging else (1, 1 << 30)  # fmt: skip
    activated = {owner: on for _, kind, owner, on in view.numbers(ctx, site) if kind == "user"}
    rows = [
        _user_row(ctx, site, u, activated.get(u.id, False))
        for u in view.page(ctx, site, start, min(size, 2000))
    ]
    return _response("UserGetListInGroupPagedSortedListResponse", user_table=rows)


def _user_row(ctx: PeerContext, site: str, user: User, activated: bool) -> UserRow:
    country, national = naming.dn(user.number).partition("-")[::2]
    return UserRow(
        f"{user.id}@{view.domain(ctx, site)}", user.last_name, user.first_name, None, None,
        None, None, naming.dn(user.number), str(activated).lower(), user.email, user.last_name,
        user.first_name, "false", user.extension, country.lstrip("+"), "0", None,
    )  # fmt: skip


def dn_list(ctx: PeerContext, request: Any) -> Any:
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    rows = [
        DnRow(naming.dn(number), None, str(on).lower(), f"{owner}@{view.domain(ctx, site)}", None,
              None, None, None, USER_TYPES.get(kind, kind), naming.dn(number)[1:].partition("-")[0],
              "0")  # fmt: skip
        for number, kind, owner, on in view.numbers(ctx, site)
    ]
    return _response("GroupDnGetAssignmentListResponse18", dn_table=rows)


def device_list(ctx: PeerContext, request: Any) -> Any:
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    rows = [
        DeviceRow(name, device_type, "0", None, None, "Online", None, None)
        for name, device_type, _ in view.devices(ctx, site)
    ]
    return _response("GroupAccessDeviceGetListResponse", access_device_table=rows)


def device_get(ctx: PeerContext, request: Any) -> Any:
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    owner = view.device_owner(ctx, site, request.device_name)
    if owner is None:
        raise NotFoundError(f"[Error 4xxx] Device not found: {request.device_name}")
    return _response(
        "GroupAccessDeviceGetResponse22V3",
        device_type=owner[0],
        number_of_ports=_value("UnboundedPositiveInt", quantity=1),
        number_of_assigned_ports=1,
        status="Online",
        use_custom_user_name_password=True,
        service_provider_id=ctx.enterprise,
        group_id=site,
        device_name=request.device_name,
    )


def user_get(ctx: PeerContext, request: Any) -> Any:
    who = view.ref(ctx, request.user_id)
    user = view.user(ctx, who).item
    endpoint = None
    if user.desk_phone != NO_DESK_PHONE:
        name = naming.device_name(who.local, MAPPING.devices.get(user.desk_phone, ""))
        endpoint = _value(
            "AccessDeviceMultipleIdentityAndContactEndpointRead22V2",
            access_device=_value("AccessDevice", device_level="Group", device_name=name),
            line_port=request.user_id,
            static_registration_capable=False,
            use_domain=True,
            support_visual_device_management=False,
            use_hotline=False,
        )
    alternates = None
    if user.username != who.local:
        alternate = f"{user.username}@{view.domain(ctx, who.site)}"
        alternates = [_value("AlternateUserIdEntry", alternate_user_id=alternate)]
    return _response(
        "UserGetResponse23V2",
        service_provider_id=ctx.enterprise, group_id=who.site, user_id=request.user_id,
        last_name=user.last_name, first_name=user.first_name,
        calling_line_id_last_name=user.last_name, calling_line_id_first_name=user.first_name,
        phone_number=naming.dn(user.number), extension=user.extension,
        language="English", time_zone=TIME_ZONE[0], time_zone_display_name=TIME_ZONE[1],
        default_alias=request.user_id, access_device_endpoint=endpoint,
        mobile_phone_number=naming.dn(user.mobile.number) if user.mobile else None,
        email_address=user.email, address_location=user.mobile.contract if user.mobile else None,
        country_code=naming.dn(user.number)[1:].partition("-")[0], alternate_user_id=alternates,
        allow_video=False,
    )  # fmt: skip


def assignment_list(ctx: PeerContext, request: Any) -> Any:
    current = view.user(ctx, view.ref(ctx, request.user_id))
    user = current.item
    packs = [PackRow(MAPPING.packs[p], "true", None) for p in (user.package, *user.options)]
    services = [ServiceRow(MAPPING.services[s], "true") for s in user.services]
    if current.lifecycle is Lifecycle.DEACTIVATED:
        services.append(ServiceRow(naming.INTERCEPT, "true"))
    return _response(
        "UserServiceGetAssignmentListResponse",
        service_packs_assignment_table=packs,
        user_services_assignment_table=services,
    )


def intercept_get(ctx: PeerContext, request: Any) -> Any:
    current = view.user(ctx, view.ref(ctx, request.user_id))
    deactivation = current.item.deactivation
    hears = deactivation is not None and deactivation.caller == "hears-number"
    presses = deactivation is not None and deactivation.caller == "presses-key"
    return _response(
        "UserInterceptUserGetResponse21sp1",
        is_active=current.lifecycle is Lifecycle.DEACTIVATED,
        announcement_selection="Default", inbound_call_mode="Intercept All",
        alternate_blocking_announcement=False, exempt_inbound_mobility_calls=False,
        disable_parallel_ringing_to_network_locations=False, route_to_voice_mail=False,
        play_new_phone_number=hears,
        new_phone_number=deactivation.transfer_to if hears and deactivation else None,
        transfer_on_zero_to_phone_number=presses,
        transfer_phone_number=deactivation.transfer_to if presses and deactivation else None,
        outbound_call_mode="Block All", exempt_outbound_mobility_calls=False,
        reroute_outbound_calls=False,
    )  # fmt: skip


def licences(ctx: PeerContext, request: Any) -> Any:
    """Every mapped service pack, authorised; limited to the sandbox's licences."""
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    owned = ctx.sandbox.settings(site)["licences"] or {}
    rows = [
        LicenceRow(pack, "true", "true", str(word in owned).lower(),
                   str(owned[word]) if word in owned else "Unlimited", "Unlimited", "0", None)  # fmt: skip
        for word, pack in MAPPING.packs.items()
    ]
    return _response(
        "GroupServiceGetAuthorizationListResponse",
        service_packs_authorization_table=rows,
        group_services_authorization_table=[],
        user_services_authorization_table=[],
    )


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
    "GroupGetRequest22V5": group_get,
    "UserGetListInGroupPagedSortedListRequest": user_list,
    "GroupDnGetAssignmentListRequest18": dn_list,
    "GroupAccessDeviceGetListRequest": device_list,
    "GroupAccessDeviceGetRequest22V3": device_get,
    "UserGetRequest23V2": user_get,
    "UserServiceGetAssignmentListRequest": assignment_list,
    "UserInterceptUserGetRequest21sp1": intercept_get,
    "GroupServiceGetAuthorizationListRequest": licences,
}


def _request(name: str, **fields: Any) -> Any:
    """A request without the fields left out (the library refuses an explicit None)."""
    return codec.request(name, **{k: v for k, v in fields.items() if v is not None})


def _value(name: str, **fields: Any) -> Any:
    return codec.value(name, **{k: v for k, v in fields.items() if v is not None})


def _response(name: str, **fields: Any) -> Any:
    return codec.response(name, **{k: v for k, v in fields.items() if v is not None})
