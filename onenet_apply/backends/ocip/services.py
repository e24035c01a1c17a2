"""What the site file's words are in BroadWorks: licence packages and options
are service packs, services are user services, desk phones are device types.

The default follows the names One Net Business uses; a platform with other
names gives its own mapping (`from_dict`, same shape as `to_dict`). The
catalogue the planner checks against is the mapping's left-hand side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onenet_apply.model.catalogue import Catalogue, default_catalogue

DEFAULT_PACKS = {
    "standard": "One Net Standard",
    "professional": "One Net Professional",
    "call-centre-basic": "Call Centre Agent Basic",
    "call-centre-standard": "Call Centre Agent Standard",
    "receptionist": "Receptionist",
}
DEFAULT_SERVICES = {
    "voicemail": "Voice Messaging User",
    "call-forwarding": "Call Forwarding Always",
    "supervisor": "BroadWorks Supervisor",
}
DEFAULT_DEVICES = {
    "yealink-t54w": "Yealink-T54W",
    "yealink-t46u": "Yealink-T46U",
    "yealink-w76p": "Yealink-W76P",
    "cisco-8841": "Cisco-8841",
    "gigaset-n870": "Gigaset-N870",
}
DEFAULT_EDITIONS = {"basic": "Basic", "standard": "Standard"}


def _inverse(forward: Mapping[str, str]) -> dict[str, str]:
    return {platform: ours for ours, platform in forward.items()}


@dataclass(frozen=True, slots=True)
class ServiceMapping:
    catalogue: Catalogue
    packs: Mapping[str, str]  # package or option -> service pack name
    services: Mapping[str, str]  # service -> BroadWorks user service name
    devices: Mapping[str, str]  # desk phone -> access device type
    editions: Mapping[str, str]  # call centre edition -> callCenterType

    @classmethod
    def default(cls) -> ServiceMapping:
        return cls(
            default_catalogue(), DEFAULT_PACKS, DEFAULT_SERVICES, DEFAULT_DEVICES, DEFAULT_EDITIONS
        )

    @classmethod
    def from_dict(
        cls, raw: Mapping[str, Any], catalogue: Catalogue | None = None
    ) -> ServiceMapping:
        return cls(
            catalogue or default_catalogue(),
            dict(raw["service_packs"]),
            dict(raw["services"]),
            dict(raw["devices"]),
            dict(raw["editions"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "service_packs": dict(self.packs),
            "services": dict(self.services),
            "devices": dict(self.devices),
            "editions": dict(self.editions),
        }

    def pack_names(self) -> dict[str, str]:
        """Service pack name -> package or option: reading a user back."""
        return _inverse(self.packs)

    def service_names(self) -> dict[str, str]:
        return _inverse(self.services)

    def device_names(self) -> dict[str, str]:
        return _inverse(self.devices)

    def edition_names(self) -> dict[str, str]:
        return _inverse(self.editions)
