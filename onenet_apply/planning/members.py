"""Member lists: what a group's lists can be written as now, and what must wait.

A list is written whole. Users the platform does not let join yet (pending users
in a hunt group or call centre) wait in a later write; users who never can
(failed, deactivated and staying so, or in an unmanaged group of a kind a user
is in only one of) block it, with the reason. docs/domain.md has the rules.
"""

from __future__ import annotations

from typing import Any

from onenet_apply.model.fields import GROUP_LISTS
from onenet_apply.model.plan import Kind, Status, Target
from onenet_apply.model.spec import DEACTIVATED
from onenet_apply.model.state import Lifecycle
from onenet_apply.model.vocabulary import ACTIVATED_GROUP_TYPES, LABEL_OF
from onenet_apply.planning.draft import FAILED_REASON, A, D, Draft, Drafting, F


class MemberLists:
    """The member-list drafts of one plan, made beside the other drafts."""

    def __init__(self, drafting: Drafting) -> None:
        self.spec = drafting.spec
        self.state = drafting.state
        self.add = drafting.add
        self.warnings = drafting.warnings
        self.unmanaged = drafting.unmanaged
        self.creating = drafting.creating  # filled by the user drafts, which come first
        self.option_updates = drafting.option_updates
        # group type -> user id -> the unmanaged groups of that type it is in, by id:
        # found once per plan, not once per user who joins a group
        self._in_unmanaged: dict[str, dict[str, list[str]]] = {}

    def warn_deactivated_members(self) -> None:
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

    def write(
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
            current = set(have[role]) if have else set()  # sets: a list may hold thousands
            eligible = [u for u in want[role] if u in current or self._can_join(target, u)]
            now[role] = eligible
            joining = set(eligible)
            waiting[role] = [u for u in want[role] if u not in joining]
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
                draft.deps.add(self.creating[uid])
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
        groups = self._in_unmanaged.get(target.type)
        if groups is None:
            groups = self._in_unmanaged[target.type] = {}
            for gid, current in sorted(self.state.section(target.type).items()):
                if self.unmanaged(gid):
                    for member in current.item.members:
                        groups.setdefault(member, []).append(gid)
        return next((gid for gid in groups.get(uid, ()) if gid != target.id), None)

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
            kind = LABEL_OF[target.type]
            return (
                f"{uid} is in {kind} {held}, which this site file does not manage: "
                f"a user is in at most one {kind}"
            )
        return (
            f"{uid} is deactivated: a deactivated user stays in, but cannot join, a "
            f"{target.type.replace('_', ' ')}; reactivate it or take it off the list"
        )
