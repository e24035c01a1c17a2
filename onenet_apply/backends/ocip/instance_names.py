"""Call pickup and call park groups are keyed by their name in BroadWorks; the
site file keys them by `id` and shows a display `name`.

The instance name carries both, `Floor 2 [floor-2]`: the id in brackets at the
end (an id holds no spaces or brackets, so it reads back whatever the display
name holds), the display name before it. A rename changes the display part and
keeps the group (`newName`); the id never changes. A call park group that
states its own `recall_timer` carries a mark, `Reception [reception; recall]`:
BroadWorks keeps one recall timer per group (the site), so the mark is what
tells a group that states the site's timer from one that leaves it to the
platform (docs/ocip.md, "Groups").
"""

from __future__ import annotations

from dataclasses import dataclass

from onenet_apply.backends.base import RefusedError
from onenet_apply.model.catalogue import GroupLimits

MAX_LENGTH = 80  # ServiceInstanceName
RECALL_MARK = "; recall"


@dataclass(frozen=True, slots=True)
class InstanceName:
    id: str
    name: str
    recall: bool = False  # a call park group that states the site's recall timer

    def encode(self) -> str:
        text = instance_text(self.id, self.name, self.recall)
        if len(text) > MAX_LENGTH:  # validation against the backend's catalogue refuses it first
            raise RefusedError(
                "ocip-instance-name",
                f"{self.id}: BroadWorks names a pickup or park group in at most {MAX_LENGTH} "
                f"characters, and `{text}` (name and id) has {len(text)}: shorten the name",
            )
        return text


def instance_text(ident: str, name: str, recall: bool) -> str:
    """The instance name of a group: `NAME [ID]`, `NAME [ID; recall]`."""
    return f"{name} [{ident}{RECALL_MARK if recall else ''}]"


GROUP_LIMITS = GroupLimits(instance_text, MAX_LENGTH, one_park_recall_timer=True)


def decode(text: str) -> InstanceName | None:
    """The id, name and mark of an instance name; None for a name this tool did
    not write (an instance someone made by hand: not part of the site)."""
    if not text.endswith("]") or " [" not in text:
        return None
    name, _, key = text[:-1].rpartition(" [")
    recall = key.endswith(RECALL_MARK)
    key = key.removesuffix(RECALL_MARK)
    if not key or any(c in key for c in " []"):
        return None
    return InstanceName(key, name, recall)
