"""Build the typed SiteSpec from a site that passed every check.

Validation has already proved the data sound and worked out the values that
need the site's context (E.164 numbers, default extensions); this module only
assembles them, so it has no error paths of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onenet_apply.model.spec import (
    ACTIVE,
    DEACTIVATED,
    NO_DESK_PHONE,
    CallCentre,
    CallParkGroup,
    CallPickupGroup,
    Deactivation,
    HuntGroup,
    Mobile,
    NoAnswer,
    Policy,
    Site,
    SiteSpec,
    User,
    frozen_map,
)
from onenet_apply.sitefile.problems import Path


@dataclass(slots=True)
class Normalised:
    """Values worked out during validation, by the path they belong to."""

    numbers: dict[Path, str] = field(default_factory=dict)  # path of a number -> E.164
    extensions: dict[Path, str] = field(default_factory=dict)  # path of an owner -> extension
    usernames: dict[str, str] = field(default_factory=dict)  # casefolded username -> owner


def build_spec(data: dict[str, Any], norm: Normalised) -> SiteSpec:
    site = data["site"]
    policy = site.get("policy", {})
    spec_site = Site(
        id=site["id"],
        name=site["name"],
        country=site["country"],
        extension_length=site.get("extension_length", 4),
        number_pool=tuple(site.get("number_pool", ())),
        licences=frozen_map(site.get("licences")),
        policy=Policy(policy.get("allow_delete", False), policy.get("max_change_percent", 30)),
        unmanaged=tuple(site.get("unmanaged", ())),
        platform_id=site.get("platform_id"),
    )
    numbers, extensions = norm.numbers, norm.extensions

    def user(uid: str, u: dict[str, Any]) -> User:
        base = ("users", uid)
        mobile = u.get("mobile")
        deactivation = u.get("deactivation")
        return User(
            id=uid,
            first_name=u["first_name"],
            last_name=u["last_name"],
            username=u.get("username", uid),
            number=numbers[(*base, "number")],
            extension=extensions[base],
            package=u["package"],
            email=u.get("email"),
            options=tuple(u.get("options", ())),
            services=tuple(u.get("services", ())),
            desk_phone=u.get("desk_phone", NO_DESK_PHONE),
            mobile=Mobile(numbers[(*base, "mobile", "number")], mobile["contract"])
            if mobile
            else None,
            status=DEACTIVATED if u.get("status") == DEACTIVATED else ACTIVE,
            deactivation=Deactivation(
                numbers[(*base, "deactivation", "transfer_to")], deactivation["caller"]
            )
            if deactivation
            else None,
        )

    def hunt_group(gid: str, g: dict[str, Any]) -> HuntGroup:
        base = ("hunt_groups", gid)
        raw = g.get("no_answer")
        no_answer = None
        if raw is not None:
            forward = numbers.get((*base, "no_answer", "forward_to"))
            no_answer = NoAnswer(raw.get("rings"), forward, raw.get("timeout"))
        return HuntGroup(
            gid,
            g["name"],
            numbers[(*base, "number")],
            extensions[base],
            g["policy"],
            tuple(g.get("members", ())),
            frozen_map(g.get("weights")),
            no_answer,
        )

    def call_centre(gid: str, g: dict[str, Any]) -> CallCentre:
        base = ("call_centres", gid)
        return CallCentre(
            gid,
            g["name"],
            numbers[(*base, "number")],
            extensions[base],
            g["edition"],
            tuple(g.get("agents", ())),
            tuple(g.get("supervisors", ())),
        )

    def section(name: str, make: Any) -> Any:
        return frozen_map({k: make(k, v) for k, v in data.get(name, {}).items()})

    return SiteSpec(
        site=spec_site,
        users=section("users", user),
        hunt_groups=section("hunt_groups", hunt_group),
        call_centres=section("call_centres", call_centre),
        call_pickup_groups=section(
            "call_pickup_groups",
            lambda k, g: CallPickupGroup(k, g["name"], tuple(g.get("members", ()))),
        ),
        call_park_groups=section(
            "call_park_groups",
            lambda k, g: CallParkGroup(
                k, g["name"], tuple(g.get("members", ())), g.get("recall_timer")
            ),
        ),
    )
