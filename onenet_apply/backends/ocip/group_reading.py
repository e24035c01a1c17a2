"""Reading a site's hunt groups, call centres, pickup and park groups back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.state import Current

UNBUILT = "reading groups over OCI-P is not built yet"


def read_groups(link: SiteLink, mapping: ServiceMapping) -> dict[str, Mapping[str, Current[Any]]]:
    """Keyword arguments of SiteState: hunt_groups, call_centres, call_pickup_groups,
    call_park_groups."""
    raise NotImplementedError(UNBUILT)
