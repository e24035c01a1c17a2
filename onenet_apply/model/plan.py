"""Actions: the steps of a plan, in the order they run.

An action names what it does to which object and carries the fields it changes
(before -> after, never a secret). Backends execute actions; the planner orders
them and gives each a status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Status(StrEnum):
    READY = "ready"
    DEFERRED = "deferred"
    BLOCKED = "blocked"
    GATED = "gated"


class Kind(StrEnum):
    CREATE = "create"
    UPDATE_PROFILE = "update-profile"  # users: names, email, services
    UPDATE_CONFIG = "update-config"  # users: username, number, extension, phone, licences
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    UPDATE = "update"  # groups: name, number, extension, policy and other settings
    SET_MEMBERS = "set-members"  # groups: the whole member list(s), written at once
    DELETE = "delete"
    # not a change: the carrier failed the object's activation, and only the One Net
    # Business team can retry it or remove the object; reported, always blocked
    ACTIVATION_FAILED = "activation-failed"


@dataclass(frozen=True, slots=True)
class Target:
    """What an action changes: a user or a group, by type and id."""

    type: str  # user | hunt_group | call_centre | call_pickup_group | call_park_group
    id: str

    def __str__(self) -> str:
        return f"{self.type}/{self.id}"


class Change(NamedTuple):
    """One field's change. A named tuple: plans hold hundreds of thousands of them."""

    field: str
    before: Any
    after: Any


LOGIN_DETAILS_NOTE = "desk phone login details will be issued"
NEW_LOGIN_DETAILS_NOTE = "new desk phone login details will be issued"


@dataclass(frozen=True, slots=True)
class Action:
    """One step of a plan: its kind and target, the fields it changes, whether it can
    run now (status, reason) and the actions it must follow."""

    id: str
    kind: Kind
    target: Target
    changes: tuple[Change, ...] = ()
    status: Status = Status.READY
    reason: str | None = None
    follows: tuple[str, ...] = ()  # ids of actions that must run first
    needs: str | None = None  # the lifecycle state it needs, e.g. "activated"
    notes: tuple[str, ...] = field(default=())  # warnings shown with the action

    @classmethod
    def make(
        cls,
        kind: Kind,
        target: Target,
        changes: Mapping[str, tuple[Any, Any]] | None = None,
        suffix: str = "",
        **extra: Any,
    ) -> Action:
        changed = tuple(Change(k, b, a) for k, (b, a) in (changes or {}).items())
        return cls(f"{target}/{kind}{suffix}", kind, target, changed, **extra)

    @property
    def issues_login_details(self) -> bool:
        """Whether the platform hands out desk phone login details for this action."""
        return LOGIN_DETAILS_NOTE in self.notes or NEW_LOGIN_DETAILS_NOTE in self.notes

    def values(self) -> dict[str, Any]:
        """The new value of every changed field."""
        return {name: after for name, _, after in self.changes}


def describe(action: Action) -> str:
    """An action in a few words, for journals and history: what it does to which
    object, and which fields (never their values: a journal holds no secret)."""
    fields = ", ".join([name for name, _, _ in action.changes])
    return f"{action.kind} {action.target}" + (f" ({fields})" if fields else "")


FORMAT_VERSION = 2  # 2: saved plans carry their site content, options and plan_digest


class Digests:
    """A plan's spec and state digests, computed when first asked for: only a plan
    that is saved, compared with a saved one, recorded or printed as JSON needs
    them, and on a large site they cost as much as planning."""

    __slots__ = ("_compute", "_pair")

    def __init__(self, compute: Callable[[], tuple[str, str]]) -> None:
        self._compute: Callable[[], tuple[str, str]] | None = compute
        self._pair: tuple[str, str] | None = None

    @classmethod
    def known(cls, spec_digest: str, state_digest: str) -> Digests:
        digests = cls(lambda: (spec_digest, state_digest))
        digests.pair()
        return digests

    def pair(self) -> tuple[str, str]:
        if self._pair is None:
            from onenet_apply.gcpause import gc_paused

            assert self._compute is not None
            with gc_paused():  # canonical JSON of a whole site: bulk, acyclic work
                self._pair, self._compute = self._compute(), None  # drops what it read
        return self._pair

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Digests) and self.pair() == other.pair()

    def __hash__(self) -> int:
        return hash(self.pair())

    def __repr__(self) -> str:
        return f"Digests{self.pair()!r}"


@dataclass(frozen=True, slots=True)
class Plan:
    """Actions in execution order, and what they were planned from."""

    site: str
    digests: Digests
    actions: tuple[Action, ...] = ()
    warnings: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()  # --target TYPE/ID: a partial plan of these objects
    pulled_in: tuple[tuple[str, str], ...] = ()  # (action id, why) needed by the targets

    @property
    def spec_digest(self) -> str:
        return self.digests.pair()[0]

    @property
    def state_digest(self) -> str:
        return self.digests.pair()[1]

    def by_status(self, status: Status) -> list[Action]:
        return [a for a in self.actions if a.status is status]

    @property
    def ready(self) -> list[Action]:
        return self.by_status(Status.READY)

    @property
    def gated(self) -> list[Action]:
        return self.by_status(Status.GATED)

    @property
    def empty(self) -> bool:
        return not self.actions

    def counts(self) -> dict[str, int]:
        counts = {str(s): 0 for s in Status}
        for action in self.actions:
            counts[str(action.status)] += 1
        return counts


class PlanFileError(ValueError):
    """A saved plan that cannot be read (wrong format, version or shape)."""


def plan_to_json(plan: Plan) -> dict[str, Any]:
    targeted = (
        {
            "targets": list(plan.targets),
            "pulled_in": [{"id": i, "reason": why} for i, why in plan.pulled_in],
        }
        if plan.targets
        else {}
    )
    return {
        "format_version": FORMAT_VERSION,
        "site": plan.site,
        "spec_digest": plan.spec_digest,
        "state_digest": plan.state_digest,
        "summary": plan.counts(),
        "warnings": list(plan.warnings),
        **targeted,
        "actions": [
            {
                "id": a.id,
                "kind": str(a.kind),
                "target": {"type": a.target.type, "id": a.target.id},
                "status": str(a.status),
                "reason": a.reason,
                "needs": a.needs,
                "follows": list(a.follows),
                "notes": list(a.notes),
                "changes": [
                    {"field": c.field, "before": c.before, "after": c.after} for c in a.changes
                ],
            }
            for a in plan.actions
        ],
    }


def plan_from_json(document: Any) -> Plan:
    """Read a saved plan back, checking its shape; raise PlanFileError if it is not one."""
    try:
        if document.get("format_version") != FORMAT_VERSION:
            raise PlanFileError(
                f"unsupported plan format_version {document.get('format_version')!r} "
                f"(this onenet reads {FORMAT_VERSION})"
            )
        actions = tuple(
            Action(
                id=_str(a["id"]),
                kind=Kind(a["kind"]),
                target=Target(_str(a["target"]["type"]), _str(a["target"]["id"])),
                changes=tuple(
                    Change(_str(c["field"]), c["before"], c["after"]) for c in a["changes"]
                ),
                status=Status(a["status"]),
                reason=a["reason"],
                follows=tuple(_str(f) for f in a["follows"]),
                needs=a["needs"],
                notes=tuple(_str(n) for n in a["notes"]),
            )
            for a in document["actions"]
        )
        return Plan(
            _str(document["site"]),
            Digests.known(_str(document["spec_digest"]), _str(document["state_digest"])),
            actions,
            tuple(_str(w) for w in document.get("warnings", ())),
            targets=tuple(_str(t) for t in document.get("targets", ())),
            pulled_in=tuple(
                (_str(p["id"]), _str(p["reason"])) for p in document.get("pulled_in", ())
            ),
        )
    except PlanFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PlanFileError(f"not a valid onenet plan ({type(e).__name__}: {e})") from None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value
