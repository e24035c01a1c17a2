"""Users over OCI-P: each user action as requests, login details recorded
before the request that sets them is sent (`Call.issue`)."""

from __future__ import annotations

from onenet_apply.backends.base import Credential
from onenet_apply.backends.common import Call
from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.plan import Action

UNBUILT = "OCI-P user operations are not built yet"


def create_user(
    link: SiteLink, mapping: ServiceMapping, call: Call, action: Action
) -> Credential | None:
    raise NotImplementedError(UNBUILT)


def update_profile(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    raise NotImplementedError(UNBUILT)


def update_config(
    link: SiteLink, mapping: ServiceMapping, call: Call, action: Action
) -> Credential | None:
    raise NotImplementedError(UNBUILT)


def deactivate(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    raise NotImplementedError(UNBUILT)


def reactivate(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    raise NotImplementedError(UNBUILT)


def delete_user(link: SiteLink, mapping: ServiceMapping, call: Call, action: Action) -> None:
    raise NotImplementedError(UNBUILT)


def reset_login(link: SiteLink, mapping: ServiceMapping, call: Call, user_id: str) -> Credential:
    raise NotImplementedError(UNBUILT)


def set_password(
    link: SiteLink, mapping: ServiceMapping, call: Call, user_id: str, password: str
) -> Credential:
    raise NotImplementedError(UNBUILT)
