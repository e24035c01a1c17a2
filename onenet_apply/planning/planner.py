"""The planner: a pure function from (desired SiteSpec, current SiteState, options) to a Plan.

It diffs every user and group into draft actions, gives each the status the
platform's lifecycle allows (docs/lifecycle.md), and hands them to `ordering` for the
dependency graph and to `gates` for the safety rules. No I/O, no clock, no
randomness: the same inputs give a byte-identical plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property, lru_cache
from typing import Any

from onenet_apply.gcpause import gc_paused
from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.fields import GROUP_SETTINGS, deactivation_fields, group_fields, user_fields
from onenet_apply.model.plan import (
    LOGIN_DETAILS_NOTE,
    NEW_LOGIN_DETAILS_NOTE,
    Action,
    Digests,
    Kind,
    Plan,
    Status,
    Target,
)
from onenet_apply.model.spec import DEACTIVATED, HuntGroup, SiteSpec, User
from onenet_apply.model.state import Lifecycle, SiteState
from onenet_apply.model.vocabulary import (
    ACTIVATED_GROUP_TYPES,
    CONFIG,
    GROUP_TYPES,
    LABEL_OF,
    PROFILE,
    SECTION_OF,
)
from onenet_apply.planning import gates, ordering, targeting
from onenet_apply.planning.draft import (
    CLAIMED,
    FAILED_REASON,
    NO_CHANGES,
    A,
    Created,
    D,
    Draft,
    Drafting,
    F,
    P,
    PlanOptions,
    hold_for_lifecycle,
)
from onenet_apply.planning.members import MemberLists

# the team's two answers: retry the activation (pending again) or remove the object
FAILED_KEPT = FAILED_REASON + "; they can retry the activation or remove the {what}"
FAILED_DROPPED = FAILED_REASON + "; the site file no longer lists it: ask them to remove the {what}"


def plan(
    spec: SiteSpec,
    state: SiteState,
    options: PlanOptions | None = None,
    *,
    catalogue: Catalogue,
) -> Plan:
    """The plan that takes the site from `state` to `spec` on a backend whose
    catalogue is `catalogue` (its options decide which agent levels ordering keeps)."""
    options = options or PlanOptions()
    with gc_paused():  # tens of thousands of acyclic drafts: nothing for the collector
        builder = _Builder(spec, state, catalogue)
        drafts = builder.build()
        ordered = ordering.order(drafts, spec, state, catalogue)
        pulled: dict[str, str] = {}
        if options.targets:  # the whole plan is ordered first: its edges say what is needed
            targeting.check_targets(options.targets, spec, state)
            ordered, pulled = targeting.select(ordered, options.targets)
        gates.apply(ordered, spec, state, options)
        ordering.propagate(ordered)
        actions = _freeze_releasing(ordered)
    return Plan(
        spec.site.id,
        Digests(lambda: _digests(spec, state)),
        actions,
        tuple(builder.warnings),
        targets=tuple(str(t) for t in options.targets),
        pulled_in=tuple((a.id, pulled[a.id]) for a in actions if a.id in pulled),
    )


def _freeze_releasing(drafts: list[Draft]) -> tuple[Action, ...]:
    """The drafts frozen into actions in order, each draft's changes dropped once frozen.

    A draft's changes (one (before, after) tuple per field) and its action's
    `Change`s would otherwise all be alive together at the end: the plan's memory
    peak (about a tenth of it at 100,000 users). Nothing reads a draft once frozen."""
    actions = []
    for draft in drafts:
        actions.append(ordering.freeze(draft))
        draft.changes = NO_CHANGES
    return tuple(actions)


def _digests(spec: SiteSpec, state: SiteState) -> tuple[str, str]:
    from onenet_apply.model.digest import spec_digest, state_digest  # only when asked for

    with gc_paused():
        return spec_digest(spec), state_digest(state)


class _Builder(Drafting):
    """The user and group drafts; member lists are `MemberLists`'s."""

    def build(self) -> list[Draft]:
        # a local, not an attribute: MemberLists refers to this builder, and a cycle
        # would keep every draft alive until the collector's next full pass
        lists = MemberLists(self)
        lists.warn_deactivated_members()
        self._users()
        for group_type in GROUP_TYPES:
            self._groups(group_type, lists)
        return self.drafts

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
                Created(values),
                claims=_claims(values),
                licences_added=_licences(values),
            )
        )
        if user.desk_phone != "none":
            draft.notes.append(LOGIN_DETAILS_NOTE)
        self.creating[target.id] = draft.id
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
        hold_for_lifecycle(draft, lifecycle, (A, D), f"until {target.id} is activated")

    def _failed(self, target: Target, wanted: bool, held: dict[str, str]) -> None:
        """docs/edge-cases.md #6: nothing is done to a failed object; one line says what to do.
        One the site file dropped would give up its values only when the team removes
        it, so whatever takes them waits on this line (and is blocked with it)."""
        what = LABEL_OF[target.type]
        self.add(Draft(Kind.ACTIVATION_FAILED, target, {}, releases={} if wanted else held)).hold(
            Status.BLOCKED, (FAILED_KEPT if wanted else FAILED_DROPPED).format(what=what)
        )

    def _update_user(self, target: Target, user: User, current: User, lifecycle: Lifecycle) -> None:
        if user != current:  # most users of a settled site are as wanted: no fields to diff
            self._update_fields(target, user, current, lifecycle)
        self._user_status(target, user, current, lifecycle)

    def _update_fields(
        self, target: Target, user: User, current: User, lifecycle: Lifecycle
    ) -> None:
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
            hold_for_lifecycle(draft, lifecycle, (A, D), f"until {target.id} is activated")
            if "options" in config:
                self.option_updates[target.id] = draft

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
            hold_for_lifecycle(draft, lifecycle, (A, D), f"until {target.id} is activated")
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
    def _groups(self, group_type: str, lists: MemberLists) -> None:
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
                lists.write(target, want, None, P if group_type in ACTIVATED_GROUP_TYPES else A)
            elif gid not in desired:
                self._delete_group(
                    target, group_fields(group_type, current[gid].item), current[gid].lifecycle
                )
            else:
                want = group_fields(group_type, desired[gid])
                have = group_fields(group_type, current[gid].item)
                self._update_group(target, want, have, current[gid].lifecycle)
                lists.write(target, want, have, current[gid].lifecycle)

    def _create_group(self, target: Target, want: dict[str, Any]) -> None:
        settings = {k: want[k] for k in GROUP_SETTINGS[target.type]}
        self.add(
            Draft(
                Kind.CREATE,
                target,
                Created(settings),
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
            hold_for_lifecycle(draft, lifecycle, (A,), f"until {target.id} is activated")
            self._references(draft, have["number"])

    def _references(self, draft: Draft, number: str) -> None:
        """docs/edge-cases.md #10: a group whose number is a forward or transfer target
        stays while something that stays points there. A holder this plan deletes or
        changes is ordered before the deletion instead (references.py)."""
        for reason in self._staying_holders.get(number, ()):
            draft.hold(Status.BLOCKED, reason)

    @cached_property
    def _staying_holders(self) -> dict[str, list[str]]:
        """Number -> what will still forward or transfer to it, found once per plan: the
        hunt groups and deactivated users of the site file, then those of the site it
        leaves as they are (unmanaged, or failed: no action deletes them)."""
        held: dict[str, list[str]] = {}

        def forwards(gid: str, group: HuntGroup) -> None:
            if group.no_answer and group.no_answer.forward_to:
                number = group.no_answer.forward_to
                held.setdefault(number, []).append(f"hunt group {gid} still forwards to {number}")

        def transfers(uid: str, user: User) -> None:
            if user.deactivation:
                number = user.deactivation.transfer_to
                held.setdefault(number, []).append(
                    f"deactivated user {uid} still transfers to {number}"
                )

        for gid, group in self.spec.hunt_groups.items():
            forwards(gid, group)
        for uid, user in self.spec.users.items():
            transfers(uid, user)
        for gid, current in self.state.hunt_groups.items():
            if gid not in self.spec.hunt_groups and self._left_as_is(gid, current.lifecycle):
                forwards(gid, current.item)
        for uid, current_user in self.state.users.items():
            if uid not in self.spec.users and self._left_as_is(uid, current_user.lifecycle):
                transfers(uid, current_user.item)
        return held

    def _left_as_is(self, ident: str, lifecycle: Lifecycle) -> bool:
        return self.unmanaged(ident) or lifecycle is F

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
            hold_for_lifecycle(draft, lifecycle, (A,), f"until {target.id} is activated")
        if changes.get("edition") and target.type == "call_centre":
            # agents gain the option the edition needs first; one losing an option
            # waits for the edition instead (ordering's agent rule)
            for uid in want["agents"]:
                if uid in self.option_updates and self.raises_agent_level(self.option_updates[uid]):
                    draft.deps.add(self.option_updates[uid].id)


def _claims(values: dict[str, Any]) -> dict[str, str]:
    return {k: values[k] for k in CLAIMED if values.get(k) is not None}


def _licences(values: dict[str, Any]) -> frozenset[str]:
    return _licence_set(values["package"], tuple(values["options"]))


@lru_cache(maxsize=256)
def _licence_set(package: str, options: tuple[str, ...]) -> frozenset[str]:
    """One set per package and options: a site's users share a few."""
    return frozenset((package, *options))


def _deactivation_changes(status: str, have: Any, want: Any) -> dict[str, tuple[Any, Any]]:
    """A deactivation's changes: the status unless it is deactivated already, the
    transfer if it changes; only real changes, never `"deactivated" -> "deactivated"`."""
    changes: dict[str, tuple[Any, Any]] = {}
    if status != DEACTIVATED or have == want:
        changes["status"] = (status, DEACTIVATED)
    if have != want:
        changes["deactivation"] = (have, want)
    return changes
