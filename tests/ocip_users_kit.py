"""An OCI-P backend wired to the loopback peer in the same process, over one sandbox.

Every request document a loop sends is kept (`Loop.sent`) and shown to the taps
it is given (`sent_documents` of ocip_kit.py checks them against the R25 schema).
`UsersBackend` reads users and licences only, so the users half is tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.backend import OcipBackend
from onenet_apply.backends.ocip.channel import LoopbackChannel, Tap
from onenet_apply.backends.ocip.link import SiteLink
from onenet_apply.backends.ocip.peer.context import PeerContext
from onenet_apply.backends.ocip.peer.dispatch import Peer
from onenet_apply.backends.sandbox import SandboxBackend


class UsersBackend(OcipBackend):
    """The OCI-P backend whose `read_state` reads users and licences only, no groups."""

    def read_groups(self, link: SiteLink) -> dict[str, Any]:
        return {}


@dataclass
class Loop:
    sandbox: SandboxBackend
    peer: Peer
    channel: LoopbackChannel
    backend: UsersBackend
    sent: list[bytes] = field(default_factory=list)

    def commands(self) -> list[str]:
        """The type of every request sent so far, in order."""
        return [type(c).__name__ for d in self.sent for c in codec.decode(d).commands]


def loop(
    tmp_path: Path,
    answer: Callable[[Peer], Callable[[str, bytes], bytes]] | None = None,
    taps: Sequence[Tap] = (),
) -> Loop:
    """A backend and a trusted connection to a peer on a new sandbox; `answer` may
    wrap the peer's answer (to drop a reply, say); `taps` see every request document."""
    sandbox = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    peer = Peer(PeerContext(sandbox, "sandbox"))
    channel = LoopbackChannel(answer(peer) if answer else peer.answer)
    peer.trust(channel.connection)
    made = Loop(sandbox, peer, channel, UsersBackend(channel, "sandbox"))
    channel.taps.append(made.sent.append)
    channel.taps.extend(taps)
    return made


def same_users(loop: Loop, site: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The site's users as OCI-P reads them and as the sandbox reports them."""
    return dict(loop.backend.read_state(site).users), dict(loop.sandbox.read_state(site).users)
