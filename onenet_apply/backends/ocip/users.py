"""Users over OCI-P: each user action as one document of requests, desk phone
login details recorded before the request that sets them is sent (`Call.issue`).

A new user is its desk phone's access device (with its device management
credentials: the login details), the user with that device as its endpoint,
then its service packs and services. BroadWorks cannot change a device's type:
a new desk phone is a new device, the old one deleted after the user moved.
naming.py says how each value is spelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onenet_apply.backends.base import Credential, RefusedError, retract
from onenet_apply.backends.common import Call
from onenet_apply.backends.ocip import codec, dn, naming
from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.passwords import generate_password, password_problems
from onenet_apply.model.plan import Action
from onenet_apply.model.spec import DEACTIVATED, NO_DESK_PHONE

NULL = codec.NULL


def create_user(
    link: SiteLink, mapping: ServiceMapping, call: Call, action: Action
) -> Credential | None:
    local, values = action.target.id, action.values()
    desk_phone = values.get("desk_phone") or NO_DESK_PHONE
    requests: list[Any] = []
    credential = endpoint = None
    if desk_phone != NO_DESK_PHONE:
        credential = call.issue(_new_login(call.site_id, local, values, "created"))
        device = _device_add(link, mapping, local, desk_phone, credential)
        requests.append(device)
        endpoint = _endpoint(
            "AccessDeviceMultipleIdentityAndContactEndpointAdd22V2", link, local, device.device_name
        )
    mobile = values.get("mobile")
    requests.append(
        codec.request(
            "UserAddRequest22V2",
            service_provider_id=link.enterprise,
            group_id=link.group,
            user_id=link.user_id(local),
            last_name=values["last_name"],
            first_name=values["first_name"],
            calling_line_id_last_name=values["last_name"],
            calling_line_id_first_name=values["first_name"],
            phone_number=dn.dn(values["number"]),
            extension=values["extension"],
            email_address=values.get("email"),
            mobile_phone_number=dn.dn(mobile["number"]) if mobile else None,
            address_location=mobile["contract"] if mobile else None,
            alternate_user_id=_alternate_ids(link, local, values.get("username", local)),
            access_device_endpoint=endpoint,
        )
    )
    packs = [mapping.packs[values["package"]], *(mapping.packs[o] for o in values["options"])]
    services = [mapping.services[s] for s in values.get("services", ())]
    requests.append(_assign("UserServiceAssignListRequest", link, local, packs, services))
    link.send(*requests)
    return credential


def update_profile(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    local = action.target.id
    changes = {c.field: (c.before, c.after) for c in action.changes}
    fields: dict[str, Any] = {}
    for name, key in (("first_name", "first_name"), ("last_name", "last_name")):
        if name in changes:
            fields[key] = fields[f"calling_line_id_{key}"] = changes[name][1]
    if "email" in changes:
        fields["email_address"] = changes["email"][1] or NULL
    requests = [_modify(link, local, fields)] if fields else []
    if "services" in changes:
        off, on = _list_change(changes["services"])
        requests += _reassign(link, local, [], [], _names(mapping.services, off),
                              _names(mapping.services, on))  # fmt: skip
    if requests:
        link.send(*requests)


def update_config(
    link: SiteLink, mapping: ServiceMapping, call: Call, action: Action
) -> Credential | None:
    local = action.target.id
    changes = {c.field: (c.before, c.after) for c in action.changes}
    fields: dict[str, Any] = {}
    if "number" in changes:
        fields["phone_number"] = dn.dn(changes["number"][1])
    if "extension" in changes:
        fields["extension"] = changes["extension"][1]
    if "username" in changes:
        fields["alternate_user_id_list"] = _alternate_id_list(link, local, changes["username"][1])
    if "mobile" in changes:
        mobile = changes["mobile"][1]
        fields["mobile_phone_number"] = dn.dn(mobile["number"]) if mobile else NULL
        fields["address_location"] = mobile["contract"] if mobile else NULL
    before: list[Any] = []
    after: list[Any] = []
    credential = None
    if "desk_phone" in changes:
        old, new = changes["desk_phone"]
        if new != NO_DESK_PHONE:
            current = read_login_owner(link, local)
            merged = {**current, **{k: v[1] for k, v in changes.items()}}
            credential = call.issue(_new_login(call.site_id, local, merged, "created"))
            device = _device_add(link, mapping, local, new, credential)
            before.append(device)
            endpoint = _endpoint(
                "AccessDeviceMultipleIdentityAndContactEndpointModify22",
                link,
                local,
                device.device_name,
            )
            fields["endpoint"] = {"access_device_endpoint": endpoint}
        else:
            fields["endpoint"] = NULL
        if old and old != NO_DESK_PHONE:
            after.append(_device_delete(link, naming.device_name(local, mapping.devices[old])))
    requests = [*before, *([_modify(link, local, fields)] if fields else []), *after]
    requests += _reassign(link, local, *_pack_changes(mapping, changes), [], [])
    if requests:
        link.send(*requests)
    return credential


def deactivate(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    """Intercept User: assigned unless the user is deactivated already, then set."""
    local = action.target.id
    changes = {c.field: (c.before, c.after) for c in action.changes}
    deactivation = action.values().get("deactivation")
    if "deactivation" not in changes:  # the status only: keep what is there
        deactivation = None
    transfer = deactivation["transfer_to"] if deactivation else None
    hears = bool(deactivation) and deactivation["caller"] == "hears-number"
    presses = bool(deactivation) and deactivation["caller"] == "presses-key"
    requests: list[Any] = []
    if changes.get("status", (DEACTIVATED,))[0] != DEACTIVATED:
        requests.append(
            _assign("UserServiceAssignListRequest", link, local, [], [naming.INTERCEPT])
        )
    requests.append(
        codec.request(
            "UserInterceptUserModifyRequest21sp1",
            user_id=link.user_id(local),
            is_active=True,
            inbound_call_mode="Intercept All",
            play_new_phone_number=hears,
            new_phone_number=transfer if hears else None,
            transfer_on_zero_to_phone_number=presses,
            transfer_phone_number=transfer if presses else None,
        )
    )
    link.send(*requests)


def reactivate(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    local = action.target.id
    link.send(
        codec.request(
            "UserInterceptUserModifyRequest21sp1", user_id=link.user_id(local), is_active=False
        ),
        _assign("UserServiceUnassignListRequest", link, local, [], [naming.INTERCEPT]),
    )


def delete_user(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    """The user, then its desk phone's device (BroadWorks keeps a device its user left)."""
    local = action.target.id
    requests = [codec.request("UserDeleteRequest", user_id=link.user_id(local))]
    device = read_login_owner(link, local).get("device")
    if device:
        requests.append(_device_delete(link, device))
    link.send(*requests)


def reset_login(link: SiteLink, mapping: ServiceMapping, call: Call, user_id: str) -> Credential:
    return _login(link, mapping, call, user_id, generate_password(), "reset")


def set_password(
    link: SiteLink, mapping: ServiceMapping, call: Call, user_id: str, password: str
) -> Credential:
    problems = password_problems(password)
    if problems:
        raise RefusedError(
            "password-rules", "the password breaks the portal's rules: " + "; ".join(problems)
        )
    return _login(link, mapping, call, user_id, password, "set")


# -- reading what a request needs ---------------------------------------------------------
def read_login_owner(link: SiteLink, local: str) -> dict[str, Any]:
    """What login details name (username, number, extension) and the user's device."""
    (user,) = link.send(codec.request("UserGetRequest23V2", user_id=link.user_id(local)))
    alternates = user.alternate_user_id or []
    return {
        "username": link.local_id(alternates[0].alternate_user_id) if alternates else local,
        "number": naming.e164(user.phone_number, user.country_code),
        "extension": user.extension,
        "device": naming.endpoint_device(user.access_device_endpoint),
    }


def _login(
    link: SiteLink, mapping: ServiceMapping, call: Call, local: str, password: str, event: str
) -> Credential:
    owner = read_login_owner(link, local)
    if not owner["device"]:
        raise RefusedError("desk-phone", f"user {local} has no desk phone")
    (device,) = link.send(
        codec.request(
            "GroupAccessDeviceGetRequest22V3",
            service_provider_id=link.enterprise,
            group_id=link.group,
            device_name=owner["device"],
        )
    )
    desk_phone = mapping.device_names().get(device.device_type, device.device_type)
    credential = call.issue(_credential(call.site_id, local, owner, desk_phone, password, event))
    modify = codec.request(
        "GroupAccessDeviceModifyRequest22",
        service_provider_id=link.enterprise,
        group_id=link.group,
        device_name=owner["device"],
        use_custom_user_name_password=True,
        access_device_credentials=_device_credentials(credential),
    )
    try:
        link.send(modify)
    except RefusedError:
        retract(call.record, call.issued)
        raise
    return credential


# -- building requests -------------------------------------------------------------------
def _new_login(site: str, local: str, values: dict[str, Any], event: str) -> Credential:
    desk_phone = values["desk_phone"]
    return _credential(site, local, values, desk_phone, generate_password(), event)


def _credential(
    site: str, local: str, values: dict[str, Any], desk_phone: str, password: str, event: str
) -> Credential:
    username = values.get("username") or local
    return Credential(
        site,
        local,
        username,
        values["number"],
        values["extension"],
        desk_phone,
        naming.login_username(username, values["extension"]),
        password,
        naming.issued_now(),
        event,
    )


def _device_credentials(credential: Credential) -> Any:
    return codec.value(
        "DeviceManagementUserNamePassword16",
        user_name=credential.login_username,
        password=credential.password,
    )


def _device_add(
    link: SiteLink, mapping: ServiceMapping, local: str, desk_phone: str, credential: Credential
) -> Any:
    device_type = mapping.devices[desk_phone]
    return codec.request(
        "GroupAccessDeviceAddRequest22V2",
        service_provider_id=link.enterprise,
        group_id=link.group,
        device_name=naming.device_name(local, device_type),
        device_type=device_type,
        use_custom_user_name_password=True,
        access_device_credentials=_device_credentials(credential),
    )


def _device_delete(link: SiteLink, name: str) -> Any:
    return codec.request(
        "GroupAccessDeviceDeleteRequest",
        service_provider_id=link.enterprise,
        group_id=link.group,
        device_name=name,
    )


def _endpoint(type_name: str, link: SiteLink, local: str, device: str) -> Any:
    access = codec.value("AccessDevice", device_level="Group", device_name=device)
    return codec.value(
        type_name, access_device=access, line_port=link.user_id(local), use_hotline=False
    )


def _alternate_ids(link: SiteLink, local: str, username: str) -> list[Any] | None:
    if username == local:
        return None
    return [codec.value("AlternateUserIdEntry", alternate_user_id=link.user_id(username))]


def _alternate_id_list(link: SiteLink, local: str, username: str) -> Any:
    entries = _alternate_ids(link, local, username)
    if entries is None:
        return NULL
    return codec.value("ReplacementAlternateUserIdEntryList", alternate_user_id=entries)


def _modify(link: SiteLink, local: str, fields: dict[str, Any]) -> Any:
    return codec.request("UserModifyRequest22", user_id=link.user_id(local), **fields)


def _assign(
    name: str, link: SiteLink, local: str, packs: Sequence[str], services: Sequence[str]
) -> Any:
    return codec.request(
        name,
        user_id=link.user_id(local),
        service_pack_name=list(packs) or None,
        service_name=list(services) or None,
    )


def _reassign(
    link: SiteLink,
    local: str,
    packs_off: Sequence[str],
    packs_on: Sequence[str],
    services_off: Sequence[str],
    services_on: Sequence[str],
) -> list[Any]:
    """Unassign what goes, then assign what comes (a licence freed before it is taken)."""
    requests = []
    if packs_off or services_off:
        requests.append(
            _assign("UserServiceUnassignListRequest", link, local, packs_off, services_off)
        )
    if packs_on or services_on:
        requests.append(_assign("UserServiceAssignListRequest", link, local, packs_on, services_on))
    return requests


def _pack_changes(
    mapping: ServiceMapping, changes: dict[str, tuple[Any, Any]]
) -> tuple[list[str], list[str]]:
    """The service packs a configuration change takes away, and the ones it gives
    (the whole new list of options, in order: see `_list_change`)."""
    off: list[str] = []
    on: list[str] = []
    if "package" in changes:
        off.append(changes["package"][0])
        on.append(changes["package"][1])
    if "options" in changes:
        options_off, options_on = _list_change(changes["options"])
        off += options_off
        on += options_on
    return _names(mapping.packs, off), _names(mapping.packs, on)


def _list_change(change: tuple[Any, Any]) -> tuple[list[str], list[str]]:
    """What a list change unassigns (what went), and what it assigns: the whole new
    list, in the site file's order. Assigning what a user has changes nothing in
    BroadWorks, and it tells a server that keeps the order (the peer) the new one."""
    before, after = list(change[0] or ()), list(change[1] or ())
    return [w for w in before if w not in after], after


def _names(forward: Any, words: Sequence[str]) -> list[str]:
    return [forward[w] for w in words if w]
