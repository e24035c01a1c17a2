"""A site whose users live in the loopback peer's sandbox, and whose groups go
there over OCI-P: the example's users seeded, its groups applied by the OCI-P
backend, read back by `group_reading` and compared with the sandbox's own report."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onenet_apply.backends.ocip import codec, group_reading
from onenet_apply.backends.ocip.backend import OcipBackend
from onenet_apply.backends.ocip.channel import LoopbackChannel
from onenet_apply.backends.ocip.link import SiteLink, fallback_domain
from onenet_apply.backends.ocip.peer.context import PeerContext
from onenet_apply.backends.ocip.peer.dispatch import Peer
from onenet_apply.backends.ocip.services import ServiceMapping
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.fields import user_fields
from onenet_apply.model.plan import Action, Kind, Plan, Status, Target
from onenet_apply.model.spec import SiteSpec, frozen_map
from onenet_apply.model.state import SiteState
from onenet_apply.model.vocabulary import GROUP_SECTIONS
from onenet_apply.planning.planner import plan
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE

ENTERPRISE = "sandbox"


def without_groups(spec: SiteSpec) -> SiteSpec:
    return dataclasses.replace(spec, **{s: frozen_map() for s in GROUP_SECTIONS})


def spec_of(text: str, tmp_path: Path, name: str = "site.yaml") -> SiteSpec:
    path = tmp_path / name
    path.write_text(text)
    validation = validate_file(str(path))
    assert validation.spec is not None, [str(p) for p in validation.problems]
    return validation.spec


@dataclass
class OcipSite:
    """The peer's sandbox, a channel to it that keeps every document it sends, and
    the OCI-P backend on that channel."""

    sandbox: SandboxBackend
    site: str
    documents: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.peer = Peer(PeerContext(self.sandbox, ENTERPRISE))
        self.channel = LoopbackChannel(self.peer.answer, taps=[self._keep])
        self.peer.trust(self.channel.connection)
        self.backend = OcipBackend(self.channel, ENTERPRISE)
        self.link = SiteLink(
            self.channel, ENTERPRISE, self.site, fallback_domain(ENTERPRISE, self.site)
        )

    def _keep(self, document: bytes) -> None:
        """Keep the documents the group operations send; the backend's lookup of
        the group's domain (`reading.group_domain`) is not theirs."""
        if b"GroupGetRequest22V5" not in document:
            self.documents.append(document)

    def read(self) -> dict[str, Mapping[str, Any]]:
        """The site's groups as the OCI-P backend reads them."""
        return {
            k: dict(v)
            for k, v in group_reading.read_groups(self.link, ServiceMapping.default()).items()
        }

    def sandbox_groups(self) -> dict[str, Mapping[str, Any]]:
        """The same groups as the sandbox reports them itself."""
        state = self.sandbox.read_state(self.site)
        return {s: dict(getattr(state, s)) for s in GROUP_SECTIONS}

    def state(self) -> SiteState:
        """The sandbox's users and licences with the groups read over OCI-P: what a
        plan against the OCI-P backend starts from."""
        return dataclasses.replace(self.sandbox.read_state(self.site), **self.read())

    def plan(self, spec: SiteSpec) -> Plan:
        return plan(spec, self.state(), catalogue=self.backend.catalogue())

    def apply(self, spec: SiteSpec, rounds: int = 4) -> None:
        """Plan and apply over OCI-P, the carrier activating between rounds, until
        nothing is ready."""
        for _ in range(rounds):
            ready = self.plan(spec).ready
            if not ready:
                return
            outcome = self.backend.execute_batch(self.site, ready)
            assert outcome.error is None, outcome.error
            self.sandbox.activate(self.site)

    def execute(self, kind: Kind, group_type: str, group_id: str, **values: Any) -> None:
        action = Action.make(
            kind, Target(group_type, group_id), {k: (None, v) for k, v in values.items()}
        )
        self.backend.execute(self.site, action)

    def create_pending_user(self, spec: SiteSpec, user_id: str) -> None:
        """Create a user of `spec` in the sandbox as the platform would: pending."""
        values = user_fields(spec.users[user_id])
        action = Action.make(
            Kind.CREATE, Target("user", user_id), {k: (None, v) for k, v in values.items()}
        )
        self.sandbox.execute(self.site, action)

    def requests_sent(self, since: int = 0) -> int:
        return sum(len(codec.decode(d).commands) for d in self.documents[since:])


def example_site(tmp_path: Path, spec: SiteSpec | None = None) -> tuple[OcipSite, SiteSpec]:
    """The example's users in the peer's sandbox, none of its groups."""
    spec = spec or validate_file(str(EXAMPLE)).spec
    assert spec is not None
    sandbox = SandboxBackend(tmp_path / "peer.db")
    sandbox.seed(without_groups(spec))
    return OcipSite(sandbox, spec.site.id), spec


def reference_groups(tmp_path: Path, spec: SiteSpec) -> dict[str, Mapping[str, Any]]:
    """The groups the sandbox itself reports for `spec`, loaded whole and activated."""
    reference = SandboxBackend(tmp_path / "reference.db")
    reference.seed(spec)
    state = reference.read_state(spec.site.id)
    return {s: dict(getattr(state, s)) for s in GROUP_SECTIONS}


READY = Status.READY
