"""Hunt groups, call centres, call pickup and call park groups over OCI-P."""

from __future__ import annotations

from onenet_apply.backends.common import Call
from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.plan import Action

UNBUILT = "OCI-P group operations are not built yet"


def create_group(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    raise NotImplementedError(UNBUILT)


def update_group(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    raise NotImplementedError(UNBUILT)


def set_members(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    raise NotImplementedError(UNBUILT)


def delete_group(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    raise NotImplementedError(UNBUILT)
