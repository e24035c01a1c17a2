"""The one table of what the platform's groups are, which every stage reads.

Validation, planning, ordering, swaps and the sandbox's rules all ask the same
questions of a group type: its section in a site file, its label in messages,
whether it has a number and goes through the carrier's activation, whether a
user may be in only one group of the type, its member lists and its settings.
Adding a group type means one row here, its record in spec.py, its rules and
their tests. docs/domain.md (G1-G9) has the rules behind the columns.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GroupType:
    """One kind of group and the words and rules that go with it."""

    name: str  # as in action ids and targets: hunt_group
    section: str  # as in site files and states: hunt_groups
    label: str  # as in messages: hunt group
    numbered: bool  # has its own number and extension, and is activated like a user
    one_per_user: bool  # a user is in at most one group of this type
    roles: tuple[str, ...]  # its member lists, written whole
    settings: tuple[str, ...]  # what else it holds besides its name (and number)
    weighted: bool = False  # members may carry weights (a weighted hunt policy)

    @property
    def lists(self) -> tuple[str, ...]:
        """The fields a member-list write carries: the lists, and the weights."""
        return (*self.roles, "weights") if self.weighted else self.roles


GROUPS: dict[str, GroupType] = {
    g.name: g
    for g in (
        GroupType(
            "hunt_group",
            "hunt_groups",
            "hunt group",
            numbered=True,
            one_per_user=False,
            roles=("members",),
            settings=("policy", "no_answer"),
            weighted=True,
        ),
        GroupType(
            "call_centre",
            "call_centres",
            "call centre",
            numbered=True,
            one_per_user=False,
            roles=("agents", "supervisors"),
            settings=("edition",),
        ),
        GroupType(
            "call_pickup_group",
            "call_pickup_groups",
            "call pickup group",
            numbered=False,
            one_per_user=True,
            roles=("members",),
            settings=(),
        ),
        GroupType(
            "call_park_group",
            "call_park_groups",
            "call park group",
            numbered=False,
            one_per_user=True,
            roles=("members",),
            settings=("recall_timer",),
        ),
    )
}
GROUP_TYPES = tuple(GROUPS)
GROUP_SECTIONS = tuple(g.section for g in GROUPS.values())
ACTIVATED_GROUP_TYPES = tuple(g.name for g in GROUPS.values() if g.numbered)
ONE_PER_USER_TYPES = tuple(g.name for g in GROUPS.values() if g.one_per_user)
# target type (singular, as in action ids) -> section name in site files and states
SECTION_OF = {"user": "users", **{g.name: g.section for g in GROUPS.values()}}
TYPE_OF_SECTION = {section: name for name, section in SECTION_OF.items()}
LABEL_OF = {"user": "user", **{g.name: g.label for g in GROUPS.values()}}
ALL_ROLES = tuple(dict.fromkeys(role for g in GROUPS.values() for role in g.roles))

# users: the fields a profile update, a configuration update and a deactivation carry
PROFILE = ("first_name", "last_name", "email", "services")
CONFIG = ("username", "number", "extension", "desk_phone", "package", "options", "mobile")
DEACTIVATION = ("status", "deactivation")
