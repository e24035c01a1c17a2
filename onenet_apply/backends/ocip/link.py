"""One site (a BroadWorks group) as the backend talks to it: `send` turns the
server's answers into the backend's errors.

- every answer an Error: nothing changed, a `RefusedError` naming the server's
  summary and code;
- any Warning, or an Error after a command that went through: the site was
  partly changed, a `TransientError`, so the applier re-reads before going on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from onenet_apply.backends.base import RefusedError, TransientError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.channel import Channel


def fallback_domain(enterprise: str, group: str) -> str:
    """The user id domain of a group the server does not report one for."""
    return f"{group}.{enterprise}.invalid"


@dataclass(frozen=True, slots=True)
class SiteLink:
    channel: Channel
    enterprise: str  # BroadWorks service provider / enterprise id
    group: str  # BroadWorks group id: the site
    domain: str  # the domain of the group's user ids (user@domain)

    def user_id(self, local: str) -> str:
        """The BroadWorks user id of a site user or group (`anna` -> `anna@domain`)."""
        return f"{local}@{self.domain}"

    def local_id(self, user_id: str) -> str:
        return user_id.rpartition("@")[0] or user_id

    def send(self, *commands: Any) -> list[Any]:
        """Send `commands` as one document; their responses, or the error above."""
        answers = self.channel.exchange(commands)
        return raise_for_faults(commands, answers)


def raise_for_faults(commands: Sequence[Any], answers: Sequence[codec.Answer]) -> list[Any]:
    faults = [(c, a) for c, a in zip(commands, answers, strict=True) if isinstance(a, codec.Fault)]
    if not faults:
        return list(answers)
    command, fault = faults[0]
    if any(f.is_warning for _, f in faults) or len(faults) < len(answers):
        raise TransientError(
            f"{command.type_}: {fault.describe()} (partly carried out; re-reading the site)"
        )
    rule = f"OCI-P error {fault.code}" if fault.code is not None else "OCI-P"
    # the server's words: the rule, shown after them, names the code once
    raise RefusedError(rule, f"{command.type_}: {fault.words}")
