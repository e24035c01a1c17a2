"""BroadWorks over OCI-P as a Backend: a `SequentialBackend` (OCI-P has no
transactions), each action one document of requests built by `users` or
`groups`, the site read back by `reading`.

The site is a BroadWorks group of the enterprise the URL names, the group whose id
is the site's, or the site file's `platform_id` (`address_site`); each user and
group of the site file is a BroadWorks user or service instance whose id is
`ID@DOMAIN`. docs/ocip.md says what maps to what.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from onenet_apply.backends.base import Credential, NotFoundError, Recorder
from onenet_apply.backends.common import Call, SequentialBackend
from onenet_apply.backends.host_lock import HostLocks
from onenet_apply.backends.ocip import group_reading, groups, reading, user_reading, users
from onenet_apply.backends.ocip.channel import Channel
from onenet_apply.backends.ocip.instance_names import GROUP_LIMITS
from onenet_apply.backends.ocip.link import SiteLink, fallback_domain
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.plan import Action
from onenet_apply.model.state import SiteState


class OcipBackend(SequentialBackend):
    def __init__(
        self,
        channel: Channel,
        enterprise: str,
        mapping: ServiceMapping | None = None,
        scope: str = "",
    ):
        self.channel = channel
        self.enterprise = enterprise
        self.mapping = mapping or ServiceMapping.default()
        # the mapping's catalogue, with how BroadWorks holds pickup and park groups (one
        # name field, one park recall timer), so a plan refuses what it cannot hold
        self._catalogue = replace(self.mapping.catalogue, group_limits=GROUP_LIMITS)
        self._domains: dict[str, str] = {}  # by group id
        self._groups: dict[str, str] = {}  # site id -> group id, where they differ
        # BroadWorks keeps no apply lock: this machine's, until a shared store gives one
        self.scope = scope or f"ocip:{enterprise}"
        self._locks = HostLocks(self.scope)

    def lock(self, site_id: str, timeout: float, command: str = "") -> AbstractContextManager[None]:
        """The site's apply lock on this machine (backends/host_lock.py)."""
        return self._locks.lock(site_id, timeout, command)

    def platform_name(self, site_id: str) -> str:
        """The server, enterprise and group (the `PlatformNames` capability)."""
        return f"{self.scope}/{self.group_id(site_id)}"

    def address_site(self, site_id: str, platform_id: str) -> None:
        """Site `site_id` is the BroadWorks group `platform_id` (the `SiteAddresses`
        capability: the site file's `site.platform_id`)."""
        self._groups[site_id] = platform_id

    def group_id(self, site_id: str) -> str:
        """The BroadWorks group of site `site_id`: its own id unless addressed otherwise."""
        return self._groups.get(site_id, site_id)

    def site(self, site_id: str) -> SiteLink:
        """The link to the site's BroadWorks group, its domain read once. A group
        the server does not know gets `fallback_domain`: a real server refuses the
        write in its own words, the loopback peer creates the site."""
        group = self.group_id(site_id)
        domain = self._domains.get(group)
        if domain is None:
            try:
                domain = self._domains[group] = reading.group_domain(
                    self.channel, self.enterprise, group
                )
            except NotFoundError:
                domain = fallback_domain(self.enterprise, group)
        return SiteLink(self.channel, self.enterprise, group, domain)

    def forget(self, site_id: str) -> None:
        """Read the group's domain again next time (after it was created)."""
        self._domains.pop(self.group_id(site_id), None)

    def catalogue(self) -> Catalogue:
        return self._catalogue

    def read_state(self, site_id: str) -> SiteState:
        """The site as BroadWorks reports it, in the same `SiteState` the sandbox
        builds (an empty one when the group does not exist)."""
        try:
            reading.group_domain(self.channel, self.enterprise, self.group_id(site_id))
        except NotFoundError:
            return SiteState(site_id)
        link = self.site(site_id)
        return SiteState(
            site_id,
            exists=True,
            users=user_reading.read_users(link, self.mapping),
            licences=user_reading.read_licences(link, self.mapping),
            **self.read_groups(link),
        )

    def read_groups(self, link: SiteLink) -> dict[str, Any]:
        """The group sections of the state (`SiteState` keyword arguments)."""
        return group_reading.read_groups(link, self.mapping)

    def reset_login(self, site_id: str, user_id: str, record: Recorder | None = None) -> Credential:
        return users.reset_login(self.site(site_id), self.mapping, Call(site_id, record), user_id)

    def set_password(
        self, site_id: str, user_id: str, password: str, record: Recorder | None = None
    ) -> Credential:
        link = self.site(site_id)
        return users.set_password(link, self.mapping, Call(site_id, record), user_id, password)

    def close(self) -> None:
        self.channel.close()

    # -- the platform's operations, each one document (or a few) of requests
    def create_user(self, call: Call, action: Action) -> Credential | None:
        return users.create_user(self.site(call.site_id), self.mapping, call, action)

    def update_profile(self, call: Call, action: Action) -> None:
        users.update_profile(self.site(call.site_id), self.mapping, call, action)

    def update_config(self, call: Call, action: Action) -> Credential | None:
        return users.update_config(self.site(call.site_id), self.mapping, call, action)

    def deactivate(self, call: Call, action: Action) -> None:
        users.deactivate(self.site(call.site_id), self.mapping, call, action)

    def reactivate(self, call: Call, action: Action) -> None:
        users.reactivate(self.site(call.site_id), self.mapping, call, action)

    def delete_user(self, call: Call, action: Action) -> None:
        users.delete_user(self.site(call.site_id), self.mapping, call, action)

    def create_group(self, call: Call, action: Action) -> None:
        groups.create_group(self.site(call.site_id), self.mapping, call, action)

    def update_group(self, call: Call, action: Action) -> None:
        groups.update_group(self.site(call.site_id), self.mapping, call, action)

    def set_members(self, call: Call, action: Action) -> None:
        groups.set_members(self.site(call.site_id), self.mapping, call, action)

    def delete_group(self, call: Call, action: Action) -> None:
        groups.delete_group(self.site(call.site_id), self.mapping, call, action)
