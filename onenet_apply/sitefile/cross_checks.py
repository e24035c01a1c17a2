"""Checks across a site file's objects: members who exist, one pickup and one park
group per user, what a member must be (an agent's option for the centre's edition,
a deactivated member's warning), and licences the site owns against their use.
docs/domain.md (G, C) has the rules.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.spec import DEACTIVATED
from onenet_apply.model.vocabulary import (
    ALL_ROLES,
    GROUP_SECTIONS,
    GROUPS,
    LABEL_OF,
    TYPE_OF_SECTION,
)
from onenet_apply.sitefile.hints import did_you_mean
from onenet_apply.sitefile.problems import Path, Severity

_ONE_PER_USER = tuple(g.section for g in GROUPS.values() if g.one_per_user)
_LABELS = {section: LABEL_OF[name] for section, name in TYPE_OF_SECTION.items()}


class Checking(Protocol):
    """What the cross checks use of the validation they are part of."""

    catalogue: Catalogue

    def error(
        self,
        path: Path,
        message: str,
        at: str = "value",
        hint: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None: ...

    def intact(self, path: Path) -> bool: ...

    def usable(self, mapping: dict[str, Any], base: Path, key: str) -> bool: ...

    def section(self, data: dict[str, Any], section: str) -> dict[str, Any]: ...


class CrossChecks:
    """The checks of one validation that look at more than one object."""

    def __init__(self, validator: Checking) -> None:
        self.v = validator

    def run(self, data: dict[str, Any], users: dict[str, Any]) -> None:
        self._memberships(data, users)
        self._licences(data, users)

    def _memberships(self, data: dict[str, Any], users: dict[str, Any]) -> None:
        known: dict[str, Any] = data["users"] if isinstance(data.get("users"), dict) else {}
        first_group: dict[str, dict[str, str]] = {section: {} for section in _ONE_PER_USER}
        for section in GROUP_SECTIONS:
            for gid, g in self.v.section(data, section).items():
                for role in ALL_ROLES:
                    if not self.v.usable(g, (section, gid), role):
                        continue
                    for i, uid in enumerate(g[role]):
                        path = (section, gid, role, i)
                        if not self.v.intact(path):
                            continue
                        if uid not in known:
                            self.v.error(
                                path, f"unknown user `{uid}`", hint=did_you_mean(uid, list(known))
                            )
                            continue
                        if section in first_group:
                            self._one_group_per_user(section, gid, uid, path, first_group[section])
                        if uid in users:
                            self._member_rules(section, g, role, uid, users[uid], path)

    def _one_group_per_user(
        self, section: str, gid: str, uid: str, path: Path, first_group: dict[str, str]
    ) -> None:
        first = first_group.setdefault(uid, gid)
        if first != gid:
            word = _LABELS[section]
            self.v.error(path, f"{uid} is already in {word} {first}; a user is in at most one {word}")

    def _member_rules(
        self, section: str, g: dict[str, Any], role: str, uid: str, u: dict[str, Any], path: Path
    ) -> None:
        base: Path = ("users", uid)
        status_ok = "status" not in u or self.v.intact((*base, "status"))
        if (
            status_ok
            and u.get("status") == DEACTIVATED
            and (section == "hunt_groups" or role == "agents")
        ):
            self.v.error(
                path,
                f"{uid} is deactivated and stays in this {_LABELS[section]}; "
                "callers may reach the announcement",
                severity=Severity.WARNING,
            )
        if role != "agents" or not self.v.usable(g, path[:2], "edition"):
            return
        options = u.get("options", []) if self.v.intact((*base, "options")) else None
        needed = self.v.catalogue.edition_levels.get(g["edition"], 0)
        if options is not None and self.v.catalogue.agent_level(tuple(options)) < needed:
            choices = " or ".join(self.v.catalogue.options_for_level(needed))
            self.v.error(
                path,
                f"agent {uid} needs a call-centre agent option for the "
                f"{g['edition']} edition ({choices}) in its options",
            )

    def _licences(self, data: dict[str, Any], users: dict[str, Any]) -> None:
        site = data.get("site")
        if not isinstance(site, dict) or not self.v.usable(site, ("site",), "licences"):
            return
        used: Counter[str] = Counter()
        for uid, u in users.items():
            if self.v.usable(u, ("users", uid), "package"):
                used[u["package"]] += 1
            if self.v.usable(u, ("users", uid), "options"):
                used.update(o for o in u["options"] if isinstance(o, str))
        known = self.v.catalogue.packages | self.v.catalogue.options
        for name, count in site["licences"].items():
            path = ("site", "licences", name)
            if not self.v.intact(path):
                continue
            if name not in known:
                self.v.error(
                    path,
                    f"unknown package or option `{name}`",
                    at="key",
                    hint=did_you_mean(name, sorted(known)),
                )
            elif used[name] > count:
                self.v.error(path, f"{used[name]} users need a {name} licence; the site owns {count}")
