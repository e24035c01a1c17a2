"""Reading a site's hunt groups, call centres, pickup and park groups back into
the records the sandbox reports (`backends/sandbox/groups.py` `to_current`).

One document of group-wide lists (the instances of each kind, the site's call
park settings, the number assignments), then the per-instance reads, several
to a document: a hunt group 1 request, a call centre 3 (the centre, its agents,
its supervisors), a pickup or park group 1. Hunt groups and call centres are
pending until their number is activated; pickup and park groups have no number
and are always activated, as in the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.dn import e164
from onenet_apply.backends.ocip.instance_names import InstanceName, decode
from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.spec import (
    CallCentre,
    CallParkGroup,
    CallPickupGroup,
    HuntGroup,
    NoAnswer,
    frozen_map,
)
from onenet_apply.model.state import Current, Lifecycle

PER_DOCUMENT = codec.MAX_COMMANDS  # per-instance reads sent together, as many as allowed
A, P = Lifecycle.ACTIVATED, Lifecycle.PENDING
NO_NAME = InstanceName("", "")


@dataclass
class _Read:
    """What one kind of group needs read, and how the answers become a record."""

    key: str  # the site file id
    commands: list[Any]
    answers: list[Any] = field(default_factory=list)
    instance: InstanceName = NO_NAME  # a pickup or park group's name


def read_groups(link: SiteLink, mapping: ServiceMapping) -> dict[str, Mapping[str, Current[Any]]]:
    """Keyword arguments of SiteState: hunt_groups, call_centres, call_pickup_groups,
    call_park_groups."""
    site = {"service_provider_id": link.enterprise, "group_id": link.group}
    hunts, centres, pickups, parks, park_site, dns = link.send(
        codec.request("GroupHuntGroupGetInstanceListRequest", **site),
        codec.request("GroupCallCenterGetInstanceListRequest", **site),
        codec.request("GroupCallPickupGetInstanceListRequest", **site),
        codec.request("GroupCallParkGetInstanceListRequest", **site),
        codec.request("GroupCallParkGetRequest16sp2", **site),
        codec.request("GroupDnGetAssignmentListRequest18", **site),
    )
    activated = {row.user_id for row in dns.dn_table or () if _true(row.activated)}
    reads: dict[str, list[_Read]] = {
        "hunt_groups": [
            _Read(
                link.local_id(uid),
                [codec.request("GroupHuntGroupGetInstanceRequest20", service_user_id=uid)],
            )
            for uid in _ids(hunts.hunt_group_table)
        ],
        "call_centres": [
            _Read(
                link.local_id(uid),
                [
                    codec.request("GroupCallCenterGetInstanceRequest22", service_user_id=uid),
                    codec.request("GroupCallCenterGetAgentListRequest", service_user_id=uid),
                    codec.request("GroupCallCenterGetSupervisorListRequest16", service_user_id=uid),
                ],
            )
            for uid in _ids(centres.call_center_table)
        ],
        "call_pickup_groups": _named(link, pickups.name, "GroupCallPickupGetInstanceRequest", site),
        "call_park_groups": _named(link, parks.name, "GroupCallParkGetInstanceRequest16sp2", site),
    }
    _send_all(link, [r for section in reads.values() for r in section])
    timer = int(park_site.recall_timer_seconds)

    def lifecycle(key: str) -> Lifecycle:
        return A if link.user_id(key) in activated else P

    return {
        "hunt_groups": frozen_map(
            {
                r.key: Current(hunt_group(link, r.key, r.answers[0]), lifecycle(r.key))
                for r in reads["hunt_groups"]
            }
        ),
        "call_centres": frozen_map(
            {
                r.key: Current(call_centre(link, mapping, r.key, r.answers), lifecycle(r.key))
                for r in reads["call_centres"]
            }
        ),
        "call_pickup_groups": frozen_map(
            {
                r.key: Current(
                    CallPickupGroup(
                        r.key, r.instance.name, _members(link, r.answers[0].user_table)
                    ),
                    A,
                )
                for r in reads["call_pickup_groups"]
            }
        ),
        "call_park_groups": frozen_map(
            {r.key: Current(_park(link, r, timer), A) for r in reads["call_park_groups"]}
        ),
    }


def hunt_group(link: SiteLink, key: str, answer: Any) -> HuntGroup:
    profile = answer.service_instance_profile
    rows = answer.agent_user_table or ()
    policy = str(answer.policy).lower()
    return HuntGroup(
        key,
        profile.name,
        e164(profile.phone_number, profile.country_code),
        profile.extension,
        policy,
        tuple(link.local_id(row.user_id) for row in rows),
        frozen_map({link.local_id(row.user_id): int(row.weight) for row in rows})
        if policy == "weighted"
        else frozen_map(),
        no_answer_of(answer),
    )


def no_answer_of(settings: Any) -> NoAnswer | None:
    """BroadWorks' no-answer settings (of a hunt group read or written) as the site
    file's `no_answer`: rings when hunting on after no answer, a timeout when
    forwarding after one, the forward number whenever one is kept; None when
    none of the three is set (`no_answer: {}` reads back as no `no_answer`)."""
    rings = (
        int(settings.no_answer_number_of_rings) if _true(settings.hunt_after_no_answer) else None
    )
    timeout = (
        int(settings.forward_timeout_seconds) if _true(settings.forward_after_timeout) else None
    )
    number = settings.forward_to_phone_number
    forward = e164(number) if isinstance(number, str) and number else None
    if (rings, forward, timeout) == (None, None, None):
        return None
    return NoAnswer(rings, forward, timeout)


def call_centre(
    link: SiteLink, mapping: ServiceMapping, key: str, answers: Sequence[Any]
) -> CallCentre:
    centre, agents, supervisors = answers
    profile = centre.service_instance_profile
    return CallCentre(
        key,
        profile.name,
        e164(profile.phone_number, profile.country_code),
        profile.extension,
        mapping.edition_names().get(centre.type, centre.type),
        _members(link, agents.agent_table),
        _members(link, supervisors.supervisor_table),
    )


def _park(link: SiteLink, read: _Read, timer: int) -> CallParkGroup:
    name = read.instance
    return CallParkGroup(
        read.key,
        name.name,
        _members(link, read.answers[0].user_table),
        timer if name.recall else None,
    )


def _named(
    link: SiteLink, names: Sequence[str] | None, request: str, site: dict[str, str]
) -> list[_Read]:
    """A read per pickup or park group this tool named; others are not the site's."""
    reads = []
    for text in names or ():
        name = decode(text)
        if name is not None:
            reads.append(_Read(name.id, [codec.request(request, name=text, **site)], [], name))
    return reads


def _send_all(link: SiteLink, reads: list[_Read]) -> None:
    """Every read's commands, PER_DOCUMENT to a document, answers handed back in order."""
    pending = [(r, c) for r in reads for c in r.commands]
    for chunk in _chunks(pending, PER_DOCUMENT):
        answers = link.send(*(c for _, c in chunk))
        for (read, _), answer in zip(chunk, answers, strict=True):
            read.answers.append(answer)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids(table: Sequence[Any] | None) -> list[str]:
    return [row.service_user_id for row in table or ()]


def _members(link: SiteLink, table: Sequence[Any] | None) -> tuple[str, ...]:
    return tuple(link.local_id(row.user_id) for row in table or ())


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
