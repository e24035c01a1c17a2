"""The planner: a pure function from (desired SiteSpec, current SiteState, options) to a Plan.

It diffs every user and group into draft actions, gives each the status the
platform's lifecycle allows (docs/lifecycle.md), and hands them to `ordering` for the
dependency graph and to `gates` for the safety rules. No I/O, no clock, no
randomness: the same inputs give a byte-identical plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from onenet_apply.catalogue import default_catalogue
from onenet_apply.fields import (
    CONFIG,
    GROUP_LISTS,
    GROUP_SETTINGS,
    PROFILE,
    deactivation_fields,
    group_fields,
    user_fields,
)
from onenet_apply.gcpause import gc_paused
from onenet_apply.plan import (
    LOGIN_DETAILS_NOTE,
    NEW_LOGIN_DETAILS_NOTE,
    Kind,
    Plan,
    Status,
    Target,
)
from onenet_apply.spec import DEACTIVATED, SiteSpec, User
from onenet_apply.state import ACTIVATED_GROUP_TYPES, GROUP_TYPES, SECTION_OF, Lifecycle, SiteState

FAILED_REASON = "activation failed: contact the One Net Business team"
# the team's two answers: retry the activation (pending again) or remove the object
FAILED_KEPT = FAILED_REASON + "; they can retry the activation or remove the {what}"
FAILED_DROPPED = FAILED_REASON + "; the site file no longer lists it: ask them to remove the {what}"
P, A, D, F = Lifecycle.PENDING, Lifecycle.ACTIVATED, Lifecycle.DEACTIVATED, Lifecycle.FAILED
CLAIMED = ("number", "extension", "username")  # values no two objects may hold at once
# how far an action is from running: each status only ever moves to a higher one
HOLD_RANK = {Status.READY: 0, Status.DEFERRED: 1, Status.GATED: 2, Status.BLOCKED: 3}


@dataclass(frozen=True, slots=True)
class PlanOptions:
    allow_delete: bool = False  # --allow-delete (policy.allow_delete also allows)
    force: bool = False  # --force: lift the max_change_percent gate


@dataclass(slots=True)
class Draft:
    """An action while the plan is being built: mutable, with what ordering needs."""

    kind: Kind
    target: Target
    changes: dict[str, tuple[Any, Any]]
    suffix: str = ""
    status: Status = Status.READY
    reason: str | None = None
    needs: str | None = None
    deps: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)  # namespace -> value it takes
    releases: dict[str, str] = field(default_factory=dict)  # namespace -> value it gives up
    licences_added: set[str] = field(default_factory=set)
    licences_removed: set[str] = field(default_factory=set)

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


def plan(spec: SiteSpec, state: SiteState, options: PlanOptions | None = None) -> Plan:
    from onenet_apply import gates, ordering
    from onenet_apply.digest import spec_digest, state_digest

    options = options or PlanOptions()
    builder = _Builder(spec, state)
    drafts = builder.build()
    with gc_paused():  # tens of thousands of acyclic drafts: nothing for the collector
        ordered = ordering.order(drafts, spec, state)
        gates.apply(ordered, spec, state, options)
        ordering.propagate(ordered)
        actions = tuple(ordering.freeze(d) for d in ordered)
        digests = spec_digest(spec), state_digest(state)
    return Plan(spec.site.id, *digests, actions, tuple(builder.warnings))


class _Builder:
    def __init__(self, spec: SiteSpec, state: SiteState) -> None:
        self.spec = spec
        self.state = state
        self.drafts: list[Draft] = []
        self.warnings: list[str] = []
        patterns = spec.site.unmanaged
        self.unmanaged = (
            (lambda ident: any(fnmatchcase(ident, p) for p in patterns))
            if (patterns)
            else (lambda ident: False)
        )
        self.creating: set[str] = set()  # user ids created by this plan
        self.option_updates: dict[str, Draft] = {}  # user id -> its config update

    def add(self, draft: Draft) -> Draft:
        self.drafts.append(draft)
        return draft

    def build(self) -> list[Draft]:
        self._warn_deactivated_members()
        self._users()
        for group_type in GROUP_TYPES:
            self._groups(group_type)
        return self.drafts

    def _warn_deactivated_members(self) -> None:
        """docs/edge-cases.md #7: a deactivated user the site file keeps in a hunt group (or as a
        call-centre agent) stays there, and callers may reach its announcement. Said in
        every plan of such a site, whether or not the list is written."""
        lists = [
            (f"hunt group {gid}", Target("hunt_group", gid), group.members)
            for gid, group in self.spec.hunt_groups.items()
        ]
        lists += [
            (f"call centre {gid} as an agent", Target("call_centre", gid), centre.agents)
            for gid, centre in self.spec.call_centres.items()
        ]
        for where, target, members in sorted(lists, key=lambda entry: entry[0]):
            for uid in members:
                user = self.spec.users.get(uid)
                if user is not None and user.status == DEACTIVATED and self._stays(target, uid):
                    self.warnings.append(f"{uid} is deactivated and stays in {where}")

    # -- users -------------------------------------------------------------------------
    def _users(self) -> None:
        desired, current = self.spec.users, self.state.users
        for uid in sorted(set(desired) | set(current)):
            if self.unmanaged(uid):
                continue
            target = Target("user", uid)
            if uid not in current:
                self._create_user(target, desired[uid])
            elif current[uid].lifecycle is F:
                self._failed(target, uid in desired, _claims(user_fields(current[uid].item)))
            elif uid not in desired:
                self._delete_user(target, current[uid].item, current[uid].lifecycle)
            else:
                self._update_user(target, desired[uid], current[uid].item, current[uid].lifecycle)

    def _create_user(self, target: Target, user: User) -> None:
        values = user_fields(user)
        draft = self.add(
            Draft(
                Kind.CREATE,
                target,
                {k: (None, v) for k, v in values.items()},
                claims=_claims(values),
                licences_added=_licences(values),
            )
        )
        if user.desk_phone != "none":
            draft.notes.append(LOGIN_DETAILS_NOTE)
        self.creating.add(target.id)
        if user.status == DEACTIVATED:
            later = self.add(
                Draft(
                    Kind.DEACTIVATE,
                    target,
                    _deactivation_changes("active", None, deactivation_fields(user)),
                    needs=str(A),
                )
            )
            later.deps.add(draft.id)
            later.hold(Status.DEFERRED, f"until {target.id} is activated")

    def _delete_user(self, target: Target, user: User, lifecycle: Lifecycle) -> None:
        values = user_fields(user)
        draft = self.add(
            Draft(
                Kind.DELETE,
                target,
                {},
                needs="activated or deactivated",
                releases=_claims(values),
                licences_removed=_licences(values),
            )
        )
        _lifecycle(draft, lifecycle, (A, D), f"until {target.id} is activated")

    def _failed(self, target: Target, wanted: bool, held: dict[str, str]) -> None:
        """docs/edge-cases.md #6: nothing is done to a failed object; one line says what to do.
        One the site file dropped would give up its values only when the team removes
        it, so whatever takes them waits on this line (and is blocked with it)."""
        what = "user" if target.type == "user" else target.type.replace("_", " ")
        self.add(Draft(Kind.ACTIVATION_FAILED, target, {}, releases={} if wanted else held)).hold(
            Status.BLOCKED, (FAILED_KEPT if wanted else FAILED_DROPPED).format(what=what)
        )

    def _update_user(self, target: Target, user: User, current: User, lifecycle: Lifecycle) -> None:
        want, have = user_fields(user), user_fields(current)
        profile = {k: (have[k], want[k]) for k in PROFILE if have[k] != want[k]}
        if profile:
            self.add(Draft(Kind.UPDATE_PROFILE, target, profile))
        config = {k: (have[k], want[k]) for k in CONFIG if have[k] != want[k]}
        if config:
            draft = self.add(
                Draft(
                    Kind.UPDATE_CONFIG,
                    target,
                    config,
                    needs="activated or deactivated",
                    claims={k: want[k] for k in CLAIMED if k in config},
                    releases={k: have[k] for k in CLAIMED if k in config},
                    licences_added=_licences(want) - _licences(have),
                    licences_removed=_licences(have) - _licences(want),
                )
            )
            if "desk_phone" in config and want["desk_phone"] != "none":
                draft.notes.append(NEW_LOGIN_DETAILS_NOTE)
            _lifecycle(draft, lifecycle, (A, D), f"until {target.id} is activated")
            if "options" in config:
                self.option_updates[target.id] = draft
        self._user_status(target, user, current, lifecycle)

    def _user_status(self, target: Target, user: User, current: User, lifecycle: Lifecycle) -> None:
        want, have = deactivation_fields(user), deactivation_fields(current)
        if user.status == DEACTIVATED and (lifecycle is not D or want != have):
            draft = self.add(
                Draft(
                    Kind.DEACTIVATE,
                    target,
                    _deactivation_changes(current.status, have, want),
                    needs="activated or deactivated",
                )
            )
            _lifecycle(draft, lifecycle, (A, D), f"until {target.id} is activated")
        elif user.status != DEACTIVATED and lifecycle is D:
            self.add(
                Draft(
                    Kind.REACTIVATE,
                    target,
                    {"status": (DEACTIVATED, "active")}
                    | ({"deactivation": (have, None)} if have else {}),
                    needs="deactivated",
                )
            )

    # -- groups --------------------------------------------------------------------------
    def _groups(self, group_type: str) -> None:
        section = SECTION_OF[group_type]
        desired: Mapping[str, Any] = getattr(self.spec, section)
        current: Mapping[str, Any] = getattr(self.state, section)
        for gid in sorted(set(desired) | set(current)):
            if self.unmanaged(gid):
                continue
            target = Target(group_type, gid)
            if gid in current and current[gid].lifecycle is F:
                have = group_fields(group_type, current[gid].item)
                self._failed(target, gid in desired, {k: have[k] for k in ("number", "extension")})
            elif gid not in current:
                want = group_fields(group_type, desired[gid])
                self._create_group(target, want)
                self._lists(target, want, None, P if group_type in ACTIVATED_GROUP_TYPES else A)
            elif gid not in desired:
                self._delete_group(
                    target, group_fields(group_type, current[gid].item), current[gid].lifecycle
                )
            else:
                want = group_fields(group_type, desired[gid])
                have = group_fields(group_type, current[gid].item)
                self._update_group(target, want, have, current[gid].lifecycle)
                self._lists(target, want, have, current[gid].lifecycle)

    def _create_group(self, target: Target, want: dict[str, Any]) -> None:
        settings = {k: (None, want[k]) for k in GROUP_SETTINGS[target.type]}
        self.add(
            Draft(
                Kind.CREATE,
                target,
                settings,
                claims={k: want[k] for k in ("number", "extension") if k in want},
            )
        )

    def _delete_group(self, target: Target, have: dict[str, Any], lifecycle: Lifecycle) -> None:
        numbered = target.type in ACTIVATED_GROUP_TYPES
        draft = self.add(
            Draft(
                Kind.DELETE,
                target,
                {},
                releases={k: have[k] for k in ("number", "extension") if k in have},
                needs="activated" if numbered else None,
            )
        )
        if numbered:
            _lifecycle(draft, lifecycle, (A,), f"until {target.id} is activated")
            self._references(draft, have["number"])

    def _references(self, draft: Draft, number: str) -> None:
        """docs/edge-cases.md #10: a group whose number is a forward or transfer target stays."""
        for gid, group in self.spec.hunt_groups.items():
            if group.no_answer and group.no_answer.forward_to == number:
                draft.hold(Status.BLOCKED, f"hunt group {gid} still forwards to {number}")
        for uid, user in self.spec.users.items():
            if user.deactivation and user.deactivation.transfer_to == number:
                draft.hold(Status.BLOCKED, f"deactivated user {uid} still transfers to {number}")

    def _update_group(
        self, target: Target, want: dict[str, Any], have: dict[str, Any], lifecycle: Lifecycle
    ) -> None:
        changes = {k: (have[k], want[k]) for k in GROUP_SETTINGS[target.type] if have[k] != want[k]}
        if not changes:
            return
        claimed = {k: want[k] for k in ("number", "extension") if k in changes}
        draft = self.add(
            Draft(
                Kind.UPDATE, target, changes, claims=claimed, releases={k: have[k] for k in claimed}
            )
        )
        if claimed:
            draft.needs = str(A)
            _lifecycle(draft, lifecycle, (A,), f"until {target.id} is activated")
        if changes.get("edition") and target.type == "call_centre":
            # agents gain the option the edition needs first; one losing an option
            # waits for the edition instead (ordering's agent rule)
            for uid in want["agents"]:
                if uid in self.option_updates and _raises_agent_level(self.option_updates[uid]):
                    draft.deps.add(self.option_updates[uid].id)

    def _lists(
        self,
        target: Target,
        want: dict[str, Any],
        have: dict[str, Any] | None,
        lifecycle: Lifecycle,
    ) -> None:
        """Member lists, written whole: what can be written now, and what must wait."""
        roles = [r for r in GROUP_LISTS[target.type] if r != "weights"]
        now: dict[str, list[str]] = {}
        waiting: dict[str, list[str]] = {}
        blocked: list[str] = []
        for role in roles:
            current = list(have[role]) if have else []
            desired = list(want[role])
            eligible = [u for u in desired if u in current or self._can_join(target, u)]
            now[role] = eligible
            waiting[role] = [u for u in desired if u not in eligible]
            blocked += [u for u in waiting[role] if self._never_joins(target, u)]
        weighted = target.type == "hunt_group" and want["policy"] == "weighted"
        current_lists = {r: (list(have[r]) if have else []) for r in roles}
        have_weights = have["weights"] if have and target.type == "hunt_group" else {}
        weights_now = (
            {u: want["weights"][u] for u in now["members"] if u in want["weights"]}
            if target.type == "hunt_group"
            else None
        )
        if weighted and any(waiting.values()):
            # weights must cover the whole list and sum to 100: no partial write
            now, weights_now = current_lists, have_weights
        write_now = {r: (current_lists[r], now[r]) for r in roles if now[r] != current_lists[r]}
        if (
            target.type == "hunt_group"
            and (write_now or weights_now != have_weights)
            and (weights_now or have_weights)
        ):
            write_now["weights"] = (have_weights, weights_now)
            write_now.setdefault("members", (current_lists["members"], now["members"]))
        if write_now:
            self._list_draft(target, write_now, "", lifecycle)
        if any(waiting.values()):
            later = {r: (now[r], list(want[r])) for r in roles if waiting[r]}
            if target.type == "hunt_group" and want["weights"]:
                later["weights"] = (weights_now, want["weights"])
            draft = self._list_draft(target, later, "-later" if write_now else "", lifecycle)
            names = sorted({u for r in roles for u in waiting[r]})
            if blocked:
                draft.hold(
                    Status.BLOCKED,
                    "; ".join(self._why_never(target, u) for u in sorted(set(blocked))),
                )
            else:
                draft.hold(
                    Status.DEFERRED,
                    f"until {', '.join(names)} {'is' if len(names) == 1 else 'are'} activated",
                )

    def _list_draft(
        self, target: Target, changes: dict[str, tuple[Any, Any]], suffix: str, lifecycle: Lifecycle
    ) -> Draft:
        draft = self.add(Draft(Kind.SET_MEMBERS, target, changes, suffix=suffix))
        if target.id not in (self.state.section(target.type)):
            draft.deps.add(f"{target}/{Kind.CREATE}")
        added: set[str] = set()
        for role, (before, after) in changes.items():
            if role == "weights":
                continue
            added |= set(after) - set(before or [])
            if role == "agents":
                for uid in set(after) - set(before or []):
                    if uid in self.option_updates:
                        draft.deps.add(self.option_updates[uid].id)
        for uid in sorted(added):
            if uid in self.creating:
                draft.deps.add(f"user/{uid}/{Kind.CREATE}")
            current = self.state.users.get(uid)
            if current is not None and current.lifecycle is D:
                draft.deps.add(f"user/{uid}/{Kind.REACTIVATE}")
        draft.notes += self._deactivated_members(target, changes)
        return draft

    def _deactivated_members(
        self, target: Target, changes: dict[str, tuple[Any, Any]]
    ) -> list[str]:
        """docs/edge-cases.md #7: the list write that keeps a deactivated user says so too."""
        if target.type != "hunt_group":
            return []
        notes = []
        for uid in (changes.get("members") or (None, []))[1] or []:
            user = self.spec.users.get(uid)
            if user is not None and user.status == DEACTIVATED and self._stays(target, uid):
                notes.append(f"{uid} is deactivated and stays in hunt group {target.id}")
        return notes

    def _can_join(self, target: Target, uid: str) -> bool:
        current = self.state.users.get(uid)
        if target.type in ACTIVATED_GROUP_TYPES:
            if current is not None and current.lifecycle is D and self._reactivating(uid):
                return True  # joins right after its reactivation (see _list_draft)
            return current is not None and current.lifecycle is A
        if uid in self.creating:
            return True
        return (
            current is not None
            and current.lifecycle is not F
            and self._unmanaged_group_of(target, uid) is None
        )

    def _unmanaged_group_of(self, target: Target, uid: str) -> str | None:
        """The unmanaged pickup (or park) group a user is in: a user is in at most one
        group of each of these kinds, and this plan never writes that group's list."""
        if target.type in ACTIVATED_GROUP_TYPES:
            return None
        for gid, current in sorted(self.state.section(target.type).items()):
            if gid != target.id and self.unmanaged(gid) and uid in current.item.members:
                return gid
        return None

    def _reactivating(self, uid: str) -> bool:
        user = self.spec.users.get(uid)
        return user is not None and user.status != DEACTIVATED

    def _never_joins(self, target: Target, uid: str) -> bool:
        """Failed users never join; deactivated ones stay out of hunt groups and centres."""
        current = self.state.users.get(uid)
        if current is None:
            return False
        if current.lifecycle is F or self._unmanaged_group_of(target, uid) is not None:
            return True
        return (
            target.type in ACTIVATED_GROUP_TYPES
            and current.lifecycle is D
            and not self._reactivating(uid)
        )

    def _stays(self, target: Target, uid: str) -> bool:
        """Whether `uid` is in the group's list now or will be put there: a user who
        cannot join (blocked) does not stay anywhere."""
        if not self._never_joins(target, uid):
            return True
        section = self.state.section(target.type)
        current = section.get(target.id)
        roles = ("members", "agents")
        return current is not None and any(
            uid in (getattr(current.item, role, None) or ()) for role in roles
        )

    def _why_never(self, target: Target, uid: str) -> str:
        if self.state.users[uid].lifecycle is F:
            return f"{uid}: {FAILED_REASON}"
        held = self._unmanaged_group_of(target, uid)
        if held is not None:
            kind = target.type.replace("_", " ")
            return (
                f"{uid} is in {kind} {held}, which this site file does not manage: "
                f"a user is in at most one {kind}"
            )
        return (
            f"{uid} is deactivated: a deactivated user stays in, but cannot join, a "
            f"{target.type.replace('_', ' ')}; reactivate it or take it off the list"
        )


def _lifecycle(
    draft: Draft, lifecycle: Lifecycle, allowed: tuple[Lifecycle, ...], waiting: str
) -> None:
    if lifecycle in allowed:
        return
    if lifecycle is F:
        draft.hold(Status.BLOCKED, FAILED_REASON)
    elif lifecycle is P:
        draft.hold(Status.DEFERRED, waiting)
    else:
        draft.hold(Status.BLOCKED, f"not possible while {draft.target.id} is {lifecycle}")


def _raises_agent_level(draft: Draft) -> bool:
    before, after = (tuple(v or ()) for v in draft.changes["options"])
    levels = default_catalogue()
    return levels.agent_level(after) > levels.agent_level(before)


def _claims(values: dict[str, Any]) -> dict[str, str]:
    return {k: values[k] for k in CLAIMED if values.get(k) is not None}


def _licences(values: dict[str, Any]) -> set[str]:
    return {values["package"], *values["options"]}


def _deactivation_changes(status: str, have: Any, want: Any) -> dict[str, tuple[Any, Any]]:
    """A deactivation's changes: the status unless it is deactivated already, the
    transfer if it changes; only real changes, never `"deactivated" -> "deactivated"`."""
    changes: dict[str, tuple[Any, Any]] = {}
    if status != DEACTIVATED or have == want:
        changes["status"] = (status, DEACTIVATED)
    if have != want:
        changes["deactivation"] = (have, want)
    return changes
