"""Fault injection, so the applier's recovery is tested against the real sandbox.

Set by the constructor or `ONENET_SANDBOX_FAULTS`, e.g. `nth=5`, `rate=0.1,seed=7`,
or either with `,mode=lost-reply` or `,mode=rollback`. Mode `before` (default)
fails an action before it changes anything; `lost-reply` carries it out and then
fails, as when the platform's answer is lost on the way back; `rollback` carries
it out, records the batch's credentials, then fails to commit, so the whole
batch is rolled back and its credentials retracted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

ENV_VAR = "ONENET_SANDBOX_FAULTS"
MODES = ("before", "lost-reply", "rollback")


@dataclass(slots=True)
class Faults:
    """Transient failures injected into the sandbox (ONENET_SANDBOX_FAULTS), to test
    that applies converge."""

    nth: int | None = None  # fail the Nth action (1-based) of this backend
    rate: float = 0.0  # or each action with this probability
    seed: int = 0
    mode: str = "before"  # before | lost-reply | rollback
    count: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        import random  # here: only a run with injected faults draws from it

        self.rng = random.Random(self.seed)

    @classmethod
    def parse(cls, text: str | None) -> Faults | None:
        if not text:
            return None
        usage = f"{ENV_VAR}={text!r}: use nth=N or rate=P[,seed=S][,mode=lost-reply|rollback]"
        fields: dict[str, str] = {}
        for part in filter(None, text.split(",")):
            key, sep, value = part.partition("=")
            if not sep or key not in ("nth", "rate", "seed", "mode") or key in fields:
                raise ValueError(usage)
            fields[key] = value
        if fields.get("mode", "before") not in MODES:
            raise ValueError(usage)
        try:
            return cls(
                nth=int(fields["nth"]) if "nth" in fields else None,
                rate=float(fields.get("rate", 0)),
                seed=int(fields.get("seed", 0)),
                mode=fields.get("mode", "before"),
            )
        except ValueError:
            raise ValueError(usage) from None

    @classmethod
    def from_env(cls) -> Faults | None:
        return cls.parse(os.environ.get(ENV_VAR))

    def strike(self) -> bool:
        """Whether the next action fails."""
        self.count += 1
        if self.nth is not None and self.count == self.nth:
            return True
        return self.rate > 0 and self.rng.random() < self.rate
