"""Reading a site's users (and its licences) back from BroadWorks, into the same
records the sandbox reports.

Group-wide lists first: the users, a page at a time (`MAX_PAGE_SIZE`, the
server's 2,000; a short page is the last), the group's numbers with their
activation, its access devices. Then per user, seven users to a document (the
schema allows 15 commands a document): the user (username, mobile, desk phone
endpoint) and its service assignments; the Intercept User settings only for
users that have it assigned. So a read of N users costs 2N + 3 requests, one
more per further page and per deactivated user, in about N/7 + 3 documents.

Lifecycle: a number not activated is *pending*, activated is *activated*, and an
active Intercept User is *deactivated*. OCI-P knows no *failed*.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from onenet_apply.backends.ocip import codec, naming
from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.spec import DEACTIVATED, NO_DESK_PHONE, Deactivation, Mobile, User
from onenet_apply.model.state import Current, Lifecycle

MAX_PAGE_SIZE = 2000  # UserGetListInGroupPagedSortedListRequest's cap
MAX_COMMANDS = codec.MAX_COMMANDS
PER_DOCUMENT = 14  # per-user read requests sent in one document: seven users


def read_users(
    link: SiteLink,
    mapping: ServiceMapping,
    page_size: int = MAX_PAGE_SIZE,
    per_document: int = PER_DOCUMENT,
) -> Mapping[str, Current[User]]:
    if not 2 <= per_document <= MAX_COMMANDS:
        raise ValueError(f"{per_document} requests a document: OCI-P allows 2 to {MAX_COMMANDS}")
    rows = list(user_rows(link, page_size))
    activated = _activated_numbers(link)
    devices = _device_types(link, mapping)
    users: dict[str, Current[User]] = {}
    details = _per_user(link, [r.user_id for r in rows], per_document)
    intercepted: list[str] = []
    for row, (user, assigned) in zip(rows, details, strict=True):
        local = link.local_id(row.user_id)
        packs, services = _assigned(assigned, mapping)
        record = _user(link, mapping, local, row, user, packs, services, devices)
        if naming.INTERCEPT in services:
            intercepted.append(row.user_id)
        lifecycle = Lifecycle.ACTIVATED if activated.get(row.user_id) else Lifecycle.PENDING
        users[local] = Current(record, lifecycle)
    for user_id, intercept in zip(
        intercepted, _intercepts(link, intercepted, per_document), strict=True
    ):
        local = link.local_id(user_id)
        if intercept.is_active:
            users[local] = Current(
                _deactivated(users[local].item, intercept), Lifecycle.DEACTIVATED
            )
    return users


def read_licences(link: SiteLink, mapping: ServiceMapping) -> Mapping[str, int]:
    """The service packs the group may assign a limited number of, by package or
    option; a pack without a limit is not listed (the sandbox's 'not limited')."""
    (response,) = link.send(
        codec.request(
            "GroupServiceGetAuthorizationListRequest",
            service_provider_id=link.enterprise,
            group_id=link.group,
        )
    )
    words = mapping.pack_names()
    licences: dict[str, int] = {}
    for row in response.service_packs_authorization_table or ():
        word = words.get(row.service_pack_name)
        if word and _true(row.authorized) and _true(row.limited):
            licences[word] = int(row.allocated)
    return licences


def user_rows(link: SiteLink, page_size: int = MAX_PAGE_SIZE) -> Iterator[Any]:
    """Every user of the group, a page at a time (start index 1), until a short page."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size {page_size}: OCI-P pages hold 1 to {MAX_PAGE_SIZE} users")
    start = 1
    while True:
        paging = codec.value(
            "ResponsePagingControl", response_start_index=start, response_page_size=page_size
        )
        (page,) = link.send(
            codec.request(
                "UserGetListInGroupPagedSortedListRequest",
                service_provider_id=link.enterprise,
                group_id=link.group,
                response_paging_control=paging,
            )
        )
        rows = page.user_table or []
        yield from rows
        if len(rows) < page_size:
            return
        start += page_size


def _activated_numbers(link: SiteLink) -> dict[str, bool]:
    """User id -> whether its number is activated."""
    (response,) = link.send(
        codec.request(
            "GroupDnGetAssignmentListRequest18",
            service_provider_id=link.enterprise,
            group_id=link.group,
        )
    )
    return {row.user_id: _true(row.activated) for row in response.dn_table or () if row.user_id}


def _device_types(link: SiteLink, mapping: ServiceMapping) -> dict[str, str]:
    """Device name -> desk phone (the catalogue's word, or the device type as is)."""
    (response,) = link.send(
        codec.request(
            "GroupAccessDeviceGetListRequest",
            service_provider_id=link.enterprise,
            group_id=link.group,
        )
    )
    words = mapping.device_names()
    return {
        row.device_name: words.get(row.device_type, row.device_type)
        for row in response.access_device_table or ()
    }


def _per_user(link: SiteLink, user_ids: Sequence[str], per_document: int) -> Iterator[Any]:
    """(UserGetResponse23V2, UserServiceGetAssignmentListResponse) of each user."""
    step = max(1, per_document // 2)
    for i in range(0, len(user_ids), step):
        requests = []
        for user_id in user_ids[i : i + step]:
            requests.append(codec.request("UserGetRequest23V2", user_id=user_id))
            requests.append(codec.request("UserServiceGetAssignmentListRequest", user_id=user_id))
        answers = link.send(*requests)
        yield from zip(answers[::2], answers[1::2], strict=True)


def _intercepts(link: SiteLink, user_ids: Sequence[str], per_document: int) -> Iterator[Any]:
    for i in range(0, len(user_ids), per_document):
        yield from link.send(
            *(
                codec.request("UserInterceptUserGetRequest21sp1", user_id=user_id)
                for user_id in user_ids[i : i + per_document]
            )
        )


def _assigned(response: Any, mapping: ServiceMapping) -> tuple[list[str], list[str]]:
    """The assigned service packs (catalogue words) and user services (catalogue
    words; Intercept User as is), in the order the server lists them."""
    pack_words, service_words = mapping.pack_names(), mapping.service_names()
    packs = [
        pack_words[row.service_pack_name]
        for row in response.service_packs_assignment_table or ()
        if _true(row.assigned) and row.service_pack_name in pack_words
    ]
    services = [
        service_words.get(row.service_name, row.service_name)
        for row in response.user_services_assignment_table or ()
        if _true(row.assigned)
        and (row.service_name in service_words or row.service_name == naming.INTERCEPT)
    ]
    return packs, services


def _user(
    link: SiteLink,
    mapping: ServiceMapping,
    local: str,
    row: Any,
    user: Any,
    packs: list[str],
    services: list[str],
    devices: dict[str, str],
) -> User:
    catalogue = mapping.catalogue
    alternates = user.alternate_user_id or []
    device = naming.endpoint_device(user.access_device_endpoint)
    mobile_number = naming.e164(user.mobile_phone_number)
    return User(
        id=local,
        first_name=row.first_name,
        last_name=row.last_name,
        username=link.local_id(alternates[0].alternate_user_id) if alternates else local,
        number=naming.e164(row.phone_number, row.country_code) or "",
        extension=row.extension or "",
        package=next((p for p in packs if p in catalogue.packages), ""),
        email=row.email_address or None,
        options=tuple(p for p in packs if p in catalogue.options),
        services=tuple(s for s in services if s != naming.INTERCEPT),
        desk_phone=devices.get(device, NO_DESK_PHONE) if device else NO_DESK_PHONE,
        mobile=Mobile(mobile_number, user.address_location)
        if mobile_number and user.address_location
        else None,
    )


def _deactivated(user: User, intercept: Any) -> User:
    """The user with its Intercept User settings as the site file's deactivation."""
    deactivation = None
    if _true(intercept.play_new_phone_number) and intercept.new_phone_number:
        deactivation = Deactivation(str(intercept.new_phone_number), "hears-number")
    elif _true(intercept.transfer_on_zero_to_phone_number) and intercept.transfer_phone_number:
        deactivation = Deactivation(str(intercept.transfer_phone_number), "presses-key")
    return replace(user, status=DEACTIVATED, deactivation=deactivation)


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
