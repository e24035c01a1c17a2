"""Reading a site's users (and its licences) back from BroadWorks."""

from __future__ import annotations

from collections.abc import Mapping

from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.spec import User
from onenet_apply.model.state import Current

UNBUILT = "reading users over OCI-P is not built yet"


def read_users(link: SiteLink, mapping: ServiceMapping) -> Mapping[str, Current[User]]:
    raise NotImplementedError(UNBUILT)


def read_licences(link: SiteLink, mapping: ServiceMapping) -> Mapping[str, int]:
    raise NotImplementedError(UNBUILT)
