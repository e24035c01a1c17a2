"""The peer's user reads, answered at once from the sandbox's rows: the group,
its users a page at a time, its numbers and their activation, its desk phones,
each user's details, service assignments and Intercept User settings, and the
group's service pack licences (the sandbox's `licences`; a pack without one is
unlimited). A failed activation reads as a number not activated: OCI-P has no
failed.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from onenet_apply.backends.base import NotFoundError
from onenet_apply.backends.ocip import codec, dn, naming
from onenet_apply.backends.ocip.peer import sandbox_view as view
from onenet_apply.backends.ocip.peer.context import Handler, PeerContext
from onenet_apply.model.spec import NO_DESK_PHONE, User
from onenet_apply.model.state import Lifecycle

MAPPING = view.MAPPING
TIME_ZONE = ("Europe/Berlin", "(GMT+01:00) Europe/Berlin")

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


# -- reads: answered at once ----------------------------------------------------------------
def group_get(ctx: PeerContext, request: Any) -> Any:
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    (count,) = ctx.sandbox.db.execute(
        "SELECT COUNT(*) FROM users WHERE site = ?", (site,)
    ).fetchone()
    return codec.response(
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
    activated = {
        owner: bool(on) for _, kind, owner, on in view.numbers(ctx, site) if kind == "user"
    }
    rows = [
        _user_row(ctx, site, u, activated.get(u.id, False))
        for u in view.page(ctx, site, start, min(size, 2000))
    ]
    return codec.response("UserGetListInGroupPagedSortedListResponse", user_table=rows)


def _user_row(ctx: PeerContext, site: str, user: User, activated: bool) -> UserRow:
    country = _country_code(user.number)
    return UserRow(
        f"{user.id}@{view.domain(ctx, site)}", user.last_name, user.first_name, None, None,
        None, None, dn.dn(user.number), str(activated).lower(), user.email, user.last_name,
        user.first_name, "false", user.extension, country, "0", None,
    )  # fmt: skip


def dn_list(ctx: PeerContext, request: Any) -> Any:
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    rows = [
        DnRow(
            dn.dn(number),
            None,
            str(bool(on)).lower(),
            f"{owner}@{view.domain(ctx, site)}",
            None,
            None,
            None,
            None,
            USER_TYPES.get(kind, kind),
            _country_code(number),
            "0",
        )
        for number, kind, owner, on in view.numbers(ctx, site)
    ]
    return codec.response("GroupDnGetAssignmentListResponse18", dn_table=rows)


def device_list(ctx: PeerContext, request: Any) -> Any:
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    rows = [
        DeviceRow(name, device_type, "0", None, None, "Online", None, None)
        for name, device_type, _ in view.devices(ctx, site)
    ]
    return codec.response("GroupAccessDeviceGetListResponse", access_device_table=rows)


def device_get(ctx: PeerContext, request: Any) -> Any:
    site = view.existing_site(ctx, request.service_provider_id, request.group_id)
    owner = view.device_owner(ctx, site, request.device_name)
    if owner is None:
        raise NotFoundError(f"device not found: {request.device_name}")
    return codec.response(
        "GroupAccessDeviceGetResponse22V3",
        device_type=owner[0],
        number_of_ports=codec.value("UnboundedPositiveInt", quantity=1),
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
        endpoint = codec.value(
            "AccessDeviceMultipleIdentityAndContactEndpointRead22V2",
            access_device=codec.value("AccessDevice", device_level="Group", device_name=name),
            line_port=request.user_id,
            static_registration_capable=False,
            use_domain=True,
            support_visual_device_management=False,
            use_hotline=False,
        )
    alternates = None
    if user.username != who.local:
        alternate = f"{user.username}@{view.domain(ctx, who.site)}"
        alternates = [codec.value("AlternateUserIdEntry", alternate_user_id=alternate)]
    return codec.response(
        "UserGetResponse23V2",
        service_provider_id=ctx.enterprise, group_id=who.site, user_id=request.user_id,
        last_name=user.last_name, first_name=user.first_name,
        calling_line_id_last_name=user.last_name, calling_line_id_first_name=user.first_name,
        phone_number=dn.dn(user.number), extension=user.extension,
        language="English", time_zone=TIME_ZONE[0], time_zone_display_name=TIME_ZONE[1],
        default_alias=request.user_id, access_device_endpoint=endpoint,
        mobile_phone_number=dn.dn(user.mobile.number) if user.mobile else None,
        email_address=user.email, address_location=user.mobile.contract if user.mobile else None,
        country_code=_country_code(user.number), alternate_user_id=alternates,
        allow_video=False,
    )  # fmt: skip


def assignment_list(ctx: PeerContext, request: Any) -> Any:
    current = view.user(ctx, view.ref(ctx, request.user_id))
    user = current.item
    packs = [PackRow(MAPPING.packs[p], "true", None) for p in (user.package, *user.options)]
    services = [ServiceRow(MAPPING.services[s], "true") for s in user.services]
    if current.lifecycle is Lifecycle.DEACTIVATED:
        services.append(ServiceRow(naming.INTERCEPT, "true"))
    return codec.response(
        "UserServiceGetAssignmentListResponse",
        service_packs_assignment_table=packs,
        user_services_assignment_table=services,
    )


def intercept_get(ctx: PeerContext, request: Any) -> Any:
    current = view.user(ctx, view.ref(ctx, request.user_id))
    deactivation = current.item.deactivation
    hears = deactivation is not None and deactivation.caller == "hears-number"
    presses = deactivation is not None and deactivation.caller == "presses-key"
    return codec.response(
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
        LicenceRow(
            pack,
            "true",
            "true",
            str(word in owned).lower(),
            str(owned.get(word, "Unlimited")),
            "Unlimited",
            "0",
            None,
        )
        for word, pack in MAPPING.packs.items()
    ]
    return codec.response(
        "GroupServiceGetAuthorizationListResponse",
        service_packs_authorization_table=rows,
        group_services_authorization_table=[],
        user_services_authorization_table=[],
    )


READS: dict[str, Handler] = {
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


def _country_code(number: str) -> str:
    return dn.dn(number)[1:].partition("-")[0]
