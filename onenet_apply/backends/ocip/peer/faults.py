"""Faults the peer can be told to inject, so tests see what a real network does.

A plan is a comma-separated list of `KIND[:WHEN]`, from the `--faults` option of
`onenet sandbox serve-ocip` or the ONENET_OCIP_PEER_FAULTS environment variable:

    drop-after-commit:every=7,warning:once,expire-session:at=3

- `drop-after-commit`: carry the document out, then close the connection
  without answering (the client cannot know what happened);
- `warning`: carry the document out, and answer its first command with a
  Warning (BroadWorks' "partly done");
- `expire-session`: forget the connection's login before the document, so
  every command is answered "not logged in" and nothing is done.

WHEN is `once` (the first document), `at=N` (the Nth), or `every=N` (each Nth);
left out, every document. Documents are counted across connections, login
documents not included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENVIRONMENT = "ONENET_OCIP_PEER_FAULTS"
DROP = "drop-after-commit"
WARNING = "warning"
EXPIRE = "expire-session"
KINDS = (DROP, WARNING, EXPIRE)


class FaultSpecError(ValueError):
    """A fault plan that cannot be read, saying which item and why."""


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    every: int = 1
    at: int | None = None

    def fires(self, count: int) -> bool:
        return count == self.at if self.at is not None else count % self.every == 0


@dataclass
class FaultPlan:
    rules: tuple[Rule, ...] = ()
    count: int = field(default=0, init=False)

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        return cls(tuple(_rule(item.strip()) for item in spec.split(",") if item.strip()))

    def next(self) -> frozenset[str]:
        """The faults to inject into the next document."""
        if not self.rules:
            return frozenset()
        self.count += 1
        return frozenset(rule.kind for rule in self.rules if rule.fires(self.count))


def _rule(item: str) -> Rule:
    kind, _, when = item.partition(":")
    if kind not in KINDS:
        raise FaultSpecError(f"fault {item!r}: the kinds are {', '.join(KINDS)}")
    if not when:
        return Rule(kind)
    if when == "once":
        return Rule(kind, at=1)
    name, _, number = when.partition("=")
    if (
        name not in ("every", "at")
        or not (number.isascii() and number.isdigit())
        or int(number) < 1
    ):
        raise FaultSpecError(f"fault {item!r}: write {kind}:once, {kind}:at=N or {kind}:every=N")
    return Rule(kind, every=int(number)) if name == "every" else Rule(kind, at=int(number))
