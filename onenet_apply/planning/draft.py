"""The types every planning stage shares, at the bottom of the package.

`planner` makes drafts, `members` the member-list writes, `swaps` and `ordering`
connect and order them, `gates` holds them back: each imports this module and
none imports another's, so the package has no import circle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.plan import Kind, Status, Target
from onenet_apply.model.spec import SiteSpec
from onenet_apply.model.state import Lifecycle, SiteState

FAILED_REASON = "activation failed: contact the One Net Business team"
P, A, D, F = Lifecycle.PENDING, Lifecycle.ACTIVATED, Lifecycle.DEACTIVATED, Lifecycle.FAILED
CLAIMED = ("number", "extension", "username")  # values no two objects may hold at once
# how far an action is from running: each status only ever moves to a higher one
HOLD_RANK = {Status.READY: 0, Status.DEFERRED: 1, Status.GATED: 2, Status.BLOCKED: 3}
NO_LICENCES: frozenset[str] = frozenset()  # shared: most drafts add or free none


class Created(Mapping[str, tuple[Any, Any]]):
    """A new object's changes: every field from nothing to its value.

    Read like any draft's changes, as (before, after) pairs, but the pairs are made
    when read, not stored: a plan from empty has one per field of every object
    (over a million at 100,000 users), the largest part of its memory peak. Read-only:
    no stage rewrites a create's changes, and one that tried would fail loudly."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getitem__(self, key: str) -> tuple[None, Any]:
        return (None, self.values[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def get(self, key: str, default: Any = None) -> Any:  # the rules ask for absent fields
        return (None, self.values[key]) if key in self.values else default


NO_CHANGES = Created({})  # what a frozen draft keeps: shared, and read-only


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What the command line asks of a plan beyond the site file: deletions, the change
    gate, and targets."""

    allow_delete: bool = False  # --allow-delete (policy.allow_delete also allows)
    force: bool = False  # --force: lift the max_change_percent gate
    targets: tuple[Target, ...] = ()  # --target: only these objects and what they need


@dataclass(slots=True)
class Draft:
    """An action while the plan is being built: mutable, with what ordering needs."""

    kind: Kind
    target: Target
    changes: dict[str, tuple[Any, Any]] | Created
    suffix: str = ""
    status: Status = Status.READY
    reason: str | None = None
    needs: str | None = None
    deps: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)  # namespace -> value it takes
    releases: dict[str, str] = field(default_factory=dict)  # namespace -> value it gives up
    licences_added: frozenset[str] = NO_LICENCES
    licences_removed: frozenset[str] = NO_LICENCES

    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = f"{self.target}/{self.kind}{self.suffix}"

    @property
    def entity(self) -> str:
        return str(self.target)

    def hold(self, status: Status, reason: str) -> None:
        """Lower the status (ready > deferred > gated > blocked) and say why."""
        if HOLD_RANK[status] > HOLD_RANK[self.status]:
            self.status, self.reason = status, reason


class Drafting:
    """One plan's drafts while they are made, and what the makers share: the site
    wanted, the site as it is, the backend's catalogue and the unmanaged patterns."""

    def __init__(self, spec: SiteSpec, state: SiteState, catalogue: Catalogue) -> None:
        self.spec = spec
        self.state = state
        self.catalogue = catalogue
        self.drafts: list[Draft] = []
        self.warnings: list[str] = []
        self.unmanaged = unmanaged_matcher(spec.site.unmanaged)
        # user id -> the id of its create, for this plan's new users: the actions that
        # wait for it share that string (a member list names thousands)
        self.creating: dict[str, str] = {}
        self.option_updates: dict[str, Draft] = {}  # user id -> its config update

    def add(self, draft: Draft) -> Draft:
        self.drafts.append(draft)
        return draft

    def raises_agent_level(self, draft: Draft) -> bool:
        """Whether a user's option change grants a higher call-centre agent level."""
        before, after = (tuple(v or ()) for v in draft.changes["options"])
        return self.catalogue.agent_level(after) > self.catalogue.agent_level(before)


def unmanaged_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    if not patterns:
        return lambda ident: False
    return lambda ident: any(fnmatchcase(ident, p) for p in patterns)


def hold_for_lifecycle(
    draft: Draft, lifecycle: Lifecycle, allowed: tuple[Lifecycle, ...], waiting: str
) -> None:
    """Hold a draft its target's lifecycle does not allow yet (deferred while it is
    pending) or at all (blocked)."""
    if lifecycle in allowed:
        return
    if lifecycle is F:
        draft.hold(Status.BLOCKED, FAILED_REASON)
    elif lifecycle is P:
        draft.hold(Status.DEFERRED, waiting)
    else:
        draft.hold(Status.BLOCKED, f"not possible while {draft.target.id} is {lifecycle}")
