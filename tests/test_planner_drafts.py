"""The planner's drafts: the notes an action carries, the values a group delete gives
up, and what a call centre's settings change waits for."""

from __future__ import annotations

import pytest

from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.plan import NEW_LOGIN_DETAILS_NOTE, Action, Plan
from onenet_apply.model.spec import SiteSpec
from onenet_apply.model.state import SiteState
from onenet_apply.planning import ordering
from onenet_apply.planning.draft import NO_CHANGES, Draft
from onenet_apply.planning.planner import _Builder
from tests.planner_kit import run, spec, state_of, summary, user

CENTRE = (
    'call_centres:\n  cc: {name: %s, number: "030 12345660", edition: %s, agents: [anna, ben]}\n'
)


def action(p: Plan, action_id: str) -> Action:
    return next(a for a in p.actions if a.id == action_id)


def test_new_login_details_only_when_the_desk_phone_changes() -> None:
    current = state_of(
        spec("users:\n" + user("anna", 1) + user("ben", 2, desk_phone="yealink-t54w"))
    )
    desired = spec(
        "users:\n"
        + user("anna", 1, desk_phone="yealink-t54w")
        + user("ben", 2, desk_phone="yealink-t54w", package="professional")
    )
    p = run(desired, current)
    assert action(p, "user/anna/update-config").notes == (NEW_LOGIN_DETAILS_NOTE,)
    assert action(p, "user/ben/update-config").notes == ()


def test_a_deleted_groups_number_goes_to_a_new_user_in_the_same_plan() -> None:
    group = 'hunt_groups:\n  h: {name: H, number: "030 12345650", policy: circular, members: []}\n'
    current = state_of(spec("users:\n" + user("anna", 1) + group))
    desired = spec("users:\n" + user("anna", 1) + user("ben", 50))
    p = run(desired, current)
    assert summary(p) == [("hunt_group/h/delete", "ready"), ("user/ben/create", "ready")]
    assert action(p, "user/ben/create").follows == ("hunt_group/h/delete",)


def test_a_centre_renamed_waits_for_no_agents_option_change() -> None:
    users = (
        "users:\n"
        + user("anna", 1, options="[call-centre-basic]")
        + user("ben", 2, options="[call-centre-basic]")
    )
    current = state_of(spec(users + CENTRE % ("CC", "basic")))
    desired = spec(
        "users:\n"
        + user("anna", 1, options="[call-centre-standard]")
        + user("ben", 2, options="[call-centre-basic]")
        + CENTRE % ("Support", "basic")
    )
    p = run(desired, current)
    assert action(p, "call_centre/cc/update").follows == ()


def test_an_edition_going_up_waits_for_the_agents_gaining_its_option() -> None:
    """anna gains the option first; ben has it already and changes nothing."""
    users = (
        "users:\n"
        + user("anna", 1, options="[call-centre-basic]")
        + user("ben", 2, options="[call-centre-standard]")
    )
    current = state_of(spec(users + CENTRE % ("CC", "basic")))
    desired = spec(
        "users:\n"
        + user("anna", 1, options="[call-centre-standard]")
        + user("ben", 2, options="[call-centre-standard]")
        + CENTRE % ("CC", "standard")
    )
    p = run(desired, current)
    assert summary(p) == [("user/anna/update-config", "ready"), ("call_centre/cc/update", "ready")]
    assert action(p, "call_centre/cc/update").follows == ("user/anna/update-config",)


def test_an_unmanaged_group_does_not_hide_the_groups_after_it() -> None:
    groups = (
        "hunt_groups:\n"
        '  a: {name: A, number: "030 12345650", policy: circular, members: []}\n'
        '  b: {name: %s, number: "030 12345651", policy: circular, members: []}\n'
    )
    current = state_of(spec("users:\n" + user("anna", 1) + groups % "B"))
    desired = spec("users:\n" + user("anna", 1) + groups % "Bee", site_extra='  unmanaged: ["a"]\n')
    assert summary(run(desired, current)) == [("hunt_group/b/update", "ready")]


def test_a_pending_group_is_deleted_once_activated() -> None:
    group = 'hunt_groups:\n  h: {name: H, number: "030 12345650", policy: circular, members: []}\n'
    current = state_of(spec("users:\n" + user("anna", 1) + group), h="pending")
    p = run(spec("users:\n" + user("anna", 1)), current)
    delete = action(p, "hunt_group/h/delete")
    assert (delete.status, delete.reason, delete.needs) == (
        "deferred",
        "until h is activated",
        "activated",
    )


def test_a_group_number_change_needs_the_group_activated() -> None:
    group = 'hunt_groups:\n  h: {name: H, number: "030 123456%s", policy: circular, members: []}\n'
    current = state_of(spec("users:\n" + user("anna", 1) + group % "50"))
    p = run(spec("users:\n" + user("anna", 1) + group % "51"), current)
    assert action(p, "hunt_group/h/update").needs == "activated"


def test_planning_leaves_no_reference_cycle_behind() -> None:
    """A cycle among the planner's objects would keep every draft of a large plan alive
    until the collector's next full pass (memory, and time spent collecting)."""
    import gc

    from onenet_apply.model.catalogue import default_catalogue
    from onenet_apply.model.state import SiteState
    from onenet_apply.planning.planner import plan
    from onenet_apply.sitefile.validate import validate_file
    from tests.conftest import EXAMPLE

    spec = validate_file(str(EXAMPLE)).spec
    assert spec is not None
    gc.collect()
    gc.disable()
    try:
        plan(spec, SiteState(spec.site.id), None, catalogue=default_catalogue())
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_draft_gives_up_its_changes_once_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan's memory peak: drafts must not keep their changes beside the actions'."""
    frozen: list[Draft] = []
    freeze = ordering.freeze

    def freezing(draft: Draft) -> Action:
        frozen.append(draft)
        return freeze(draft)

    monkeypatch.setattr(ordering, "freeze", freezing)
    p = run(spec("users:\n" + user("anna", 1) + user("ben", 2)), state_of(spec("")))
    assert action(p, "user/anna/create").changes  # the action has them
    assert len(frozen) == len(p.actions)
    assert all(d.changes is NO_CHANGES for d in frozen)  # one empty mapping for all


NEW_SITE = (
    "users:\n"
    + user("anna", 1)
    + user("ben", 2)
    + 'hunt_groups:\n  h: {name: H, number: "030 12345650", policy: circular, members: [anna]}\n'
    + "call_pickup_groups:\n  g: {name: G, members: [anna, ben]}\n"
)


def drafts_of(desired: SiteSpec, current: SiteState) -> dict[str, Draft]:
    """The planner's drafts before ordering, by id."""
    return {d.id: d for d in _Builder(desired, current, default_catalogue()).build()}


def test_a_new_objects_changes_are_made_when_read_not_stored() -> None:
    """A plan from empty would otherwise hold a (None, value) pair per field of every
    new user and group: at 100,000 users, most of its memory peak."""
    drafts = drafts_of(spec(NEW_SITE), state_of(spec("")))
    for draft_id, field, value in (
        ("user/anna/create", "first_name", "Anna"),
        ("hunt_group/h/create", "policy", "circular"),
    ):
        changes = drafts[draft_id].changes
        assert changes[field] == (None, value)
        assert changes[field] is not changes[field]  # a new pair each time: none kept
        assert dict(changes.items())[field] == (None, value)


def test_drafts_share_their_licence_sets() -> None:
    """Users with the same package and options share one set; a draft with none
    shares the empty one."""
    drafts = drafts_of(spec(NEW_SITE), state_of(spec("")))
    anna, ben = drafts["user/anna/create"], drafts["user/ben/create"]
    assert anna.licences_added == {"standard"}
    assert anna.licences_added is ben.licences_added
    assert anna.licences_removed is drafts["hunt_group/h/create"].licences_removed


def test_a_member_list_write_shares_its_new_members_create_ids() -> None:
    """A list write waits for each new member's create by that draft's own id string,
    not a copy per list (a site's groups name every user)."""
    drafts = drafts_of(spec(NEW_SITE), state_of(spec("")))
    write = drafts["call_pickup_group/g/set-members"]
    for uid in ("anna", "ben"):
        create_id = drafts[f"user/{uid}/create"].id
        assert any(dep is create_id for dep in write.deps)


def test_ordering_keeps_each_drafts_dependency_set() -> None:
    """Ordering adds its edges to the drafts' own sets: a copy of every set would be
    alive beside the sets at the plan's memory peak."""
    desired, current = spec(NEW_SITE), state_of(spec(""))
    drafts = drafts_of(desired, current)
    sets = {i: d.deps for i, d in drafts.items()}
    ordered = ordering.order(list(drafts.values()), desired, current, default_catalogue())
    unchanged = [d for d in ordered if not d.deps]
    assert unchanged  # the users' creates wait for nothing
    assert all(d.deps is sets[d.id] for d in unchanged)
