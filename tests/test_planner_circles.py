"""Sites the planner once could not order, or ordered into a refusal: hand-overs that
close a circle with other rules, licences all in use, unmanaged pickup groups."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Plan, Status
from onenet_apply.model.spec import SiteSpec, frozen_map
from onenet_apply.model.state import SiteState
from onenet_apply.planning.planner import plan
from tests.planner_kit import LIFTED, apply_ready, run, settle, spec, state_of, summary, user

CC = 'call_centres:\n  cc: {name: CC, number: "030 123456%s", edition: %s, agents: [%s]}\n'


def action(p: Plan, action_id: str):
    return next(a for a in p.actions if a.id == action_id)


def position(p: Plan, action_id: str) -> int:
    return [a.id for a in p.actions].index(action_id)


def owning(state: SiteState, **licences: int) -> SiteState:
    return replace(state, licences=frozen_map(licences))


def test_a_user_in_an_unmanaged_pickup_group_cannot_join_another() -> None:
    users = "users:\n" + user("anna", 1) + user("ben", 2)
    current = state_of(
        spec(
            users + "call_pickup_groups:\n  g1: {name: One, members: []}\n"
            "  g2: {name: Two, members: [anna]}\n"
        )
    )
    desired = spec(
        users + "call_pickup_groups:\n  g1: {name: One, members: [anna, ben]}\n",
        site_extra='  unmanaged: ["g2"]\n',
    )
    p = run(desired, current)
    assert summary(p) == [
        ("call_pickup_group/g1/set-members", "ready"),
        ("call_pickup_group/g1/set-members-later", "blocked"),
    ]
    assert action(p, "call_pickup_group/g1/set-members").changes[0].after == ["ben"]
    assert action(p, "call_pickup_group/g1/set-members-later").reason == (
        "anna is in call pickup group g2, which this site file does not manage: "
        "a user is in at most one call pickup group"
    )


def test_a_hunt_group_handing_its_number_over_while_turning_weighted() -> None:
    """The new user takes the group's number, the group's weights include that user,
    and weights are written before the policy turns weighted: the number goes first."""
    current = state_of(
        spec(
            "users:\n"
            + user("anna", 1)
            + 'hunt_groups:\n  sales: {name: S, number: "030 12345619", policy: circular, members: [anna]}\n'
        )
    )
    desired = spec(
        "users:\n"
        + user("anna", 1)
        + user("zoe", 19)
        + 'hunt_groups:\n  sales: {name: S, number: "030 12345613", policy: weighted,'
        " members: [anna, zoe], weights: {anna: 50, zoe: 50}}\n"
    )
    p = run(desired, current)
    numbers = action(p, "hunt_group/sales/update-numbers")
    assert numbers.status is Status.READY
    assert {c.field for c in numbers.changes} == {"number", "extension"}
    assert "hunt_group/sales/update-numbers" in action(p, "user/zoe/create").follows
    assert [c.field for c in action(p, "hunt_group/sales/update").changes] == ["policy"]


def test_a_call_centre_edition_goes_up_after_agents_without_the_option_leave() -> None:
    users = "users:\n" + user("anna", 1, options="[call-centre-basic]")
    users += user("ben", 2, options="[call-centre-standard]")
    current = state_of(spec(users + CC % (50, "basic", "anna, ben")))
    p = run(spec(users + CC % (50, "standard", "ben")), current)
    assert action(p, "call_centre/cc/update").follows == ("call_centre/cc/set-members",)
    assert position(p, "call_centre/cc/set-members") < position(p, "call_centre/cc/update")


def test_an_edition_going_down_does_not_wait_for_an_agent_losing_its_option() -> None:
    """The agent hands its number to the centre and drops to the basic option, which
    waits for the edition: the edition must not wait for the agent in turn."""
    current = state_of(
        spec(
            "users:\n"
            + user("anna", 18, options="[call-centre-standard]")
            + CC % ("03", "standard", "anna")
        )
    )
    desired = spec(
        "users:\n" + user("anna", 1, options="[call-centre-basic]") + CC % (18, "basic", "anna")
    )
    p = run(desired, current)
    assert {a.status for a in p.actions} == {Status.READY}
    assert (
        position(p, "call_centre/cc/update")
        < position(p, "user/anna/update-config")
        < position(p, "call_centre/cc/update-numbers")
    )


def test_users_trading_packages_with_every_licence_in_use_are_blocked() -> None:
    current = state_of(spec("users:\n" + user("anna", 1) + user("ben", 2, package="professional")))
    desired = spec("users:\n" + user("anna", 1, package="professional") + user("ben", 2))
    p = run(desired, owning(current, standard=1, professional=1))
    assert {a.status for a in p.actions} == {Status.BLOCKED}
    assert action(p, "user/anna/update-config").reason == (
        "needs a professional licence, and all 1 the site owns are in use until changes "
        "that wait for this one are done: one more professional licence lets them pass"
    )


def takes_in_one_go(
    tmp_path: Path, current: SiteSpec, desired: SiteSpec, licences: dict[str, int] | None = None
) -> None:
    """The sandbox, at `current` and activated, takes the plan's ready actions without a
    refusal, and the plan after them is empty."""
    backend = SandboxBackend(tmp_path / "sandbox.db")
    if licences:
        backend.configure("t", licences=licences)
    settle(backend, current, random.Random(0), fail_some=False)
    backend.activate("t")
    apply_ready(
        backend, plan(desired, backend.read_state("t"), LIFTED, catalogue=backend.catalogue())
    )
    assert plan(desired, backend.read_state("t"), LIFTED, catalogue=backend.catalogue()).empty
    assert backend.check_consistency("t") == []
    backend.close()


def test_an_edition_going_down_comes_before_an_agent_who_meets_only_the_lower_one(
    tmp_path: Path,
) -> None:
    users = "users:\n" + user("anna", 1, options="[call-centre-basic]")
    current, desired = (
        spec(users + CC % (50, "standard", "")),
        spec(users + CC % (50, "basic", "anna")),
    )
    p = run(desired, state_of(current))
    assert action(p, "call_centre/cc/set-members").follows == ("call_centre/cc/update",)
    takes_in_one_go(tmp_path, current, desired)


def test_an_edition_going_down_does_not_hold_back_an_agent_who_meets_the_higher_one() -> None:
    users = "users:\n" + user("anna", 1, options="[call-centre-standard]")
    current, desired = (
        spec(users + CC % (50, "standard", "")),
        spec(users + CC % (50, "basic", "anna")),
    )
    assert action(run(desired, state_of(current)), "call_centre/cc/set-members").follows == ()


def test_agents_trading_the_only_agent_licence_take_turns(tmp_path: Path) -> None:
    """ben leaves the centre, then drops his option, then anna takes it and joins: each
    step waited for the next in a circle, and the plan blocked what one order solves."""
    agents = "users:\n" + user("anna", 1) + user("ben", 2, options="[call-centre-standard]")
    turned = "users:\n" + user("anna", 1, options="[call-centre-standard]") + user("ben", 2)
    current, desired = (
        spec(agents + CC % (50, "basic", "ben")),
        spec(turned + CC % (50, "basic", "anna")),
    )
    p = run(desired, owning(state_of(current), standard=2, **{"call-centre-standard": 1}))
    assert summary(p) == [
        ("call_centre/cc/set-members-leave", "ready"),
        ("user/ben/update-config", "ready"),
        ("user/anna/update-config", "ready"),
        ("call_centre/cc/set-members", "ready"),
    ]
    assert action(p, "call_centre/cc/set-members-leave").changes[0].after == []
    assert action(p, "call_centre/cc/set-members-leave").notes == (
        "first let agents go, freeing their agent licences",
    )
    assert action(p, "call_centre/cc/set-members").changes[0].before == []
    takes_in_one_go(tmp_path, current, desired, {"standard": 2, "call-centre-standard": 1})


def test_users_trading_options_with_every_licence_in_use_drop_theirs_first(
    tmp_path: Path,
) -> None:
    """Unlike a package, an option can be given up alone: anna gives hers up, ben
    trades, anna takes his."""
    current = spec(
        "users:\n"
        + user("anna", 1, options="[receptionist]")
        + user("ben", 2, options="[call-centre-basic]")
    )
    desired = spec(
        "users:\n"
        + user("anna", 1, options="[call-centre-basic]")
        + user("ben", 2, options="[receptionist]")
    )
    licences = {"standard": 2, "receptionist": 1, "call-centre-basic": 1}
    p = run(desired, owning(state_of(current), **licences))
    assert summary(p) == [
        ("user/anna/update-config-drop", "ready"),
        ("user/ben/update-config", "ready"),
        ("user/anna/update-config", "ready"),
    ]
    drop = action(p, "user/anna/update-config-drop")
    assert [(c.field, c.before, c.after) for c in drop.changes] == [
        ("options", ["receptionist"], [])
    ]
    assert drop.notes == ("first give up options, freeing their licences for others",)
    rest = action(p, "user/anna/update-config")  # takes the new option from none held
    assert [(c.field, c.before, c.after) for c in rest.changes] == [
        ("options", [], ["call-centre-basic"])
    ]
    takes_in_one_go(tmp_path, current, desired, licences)


def test_a_licence_trade_gets_the_free_licence_before_a_new_user() -> None:
    """anna gives up professional for standard, carl the other way; abe is new (and
    sorts first). With one standard free, anna's trade takes it: abe waits for carl's,
    carl for anna's."""
    current = state_of(spec("users:\n" + user("anna", 1, package="professional") + user("carl", 3)))
    desired = spec(
        "users:\n" + user("anna", 1) + user("carl", 3, package="professional") + user("abe", 4)
    )
    p = run(desired, owning(current, standard=2, professional=1))
    assert {a.status for a in p.actions} == {Status.READY}
    assert action(p, "user/abe/create").follows == ("user/carl/update-config",)
    assert action(p, "user/carl/update-config").follows == ("user/anna/update-config",)


def test_weights_alone_wait_for_the_switch_to_weighted_they_prepare() -> None:
    """The platform shows no weights while a group is circular: written while the switch
    is blocked, they would be written again by every plan."""
    svc = user("svc-fax", 16, username="svc.fax")
    current = state_of(
        spec(
            "users:\n"
            + user("anna", 1)
            + svc
            + 'hunt_groups:\n  sales: {name: S, number: "030 12345619", policy: circular,'
            " members: [anna]}\n"
        )
    )
    desired = spec(
        "users:\n"
        + user("anna", 1)
        + 'hunt_groups:\n  sales: {name: S, number: "030 12345616", policy: weighted,'
        " members: [anna], weights: {anna: 100}}\n",
        site_extra='  unmanaged: ["svc-*"]\n',
    )
    p = run(desired, current)
    assert summary(p) == [
        ("hunt_group/sales/set-members", "blocked"),
        ("hunt_group/sales/update", "blocked"),
    ]
    assert action(p, "hunt_group/sales/set-members").reason.startswith(
        "its weights take effect with hunt_group/sales/update (number +493012345616 is held"
    )


def test_one_centre_going_up_does_not_end_the_edition_checks_of_the_next(
    tmp_path: Path,
) -> None:
    """Centre `a` goes up (checked first); centre `cc` goes down and takes in an agent
    who meets only the lower edition: that join still waits for `cc`'s edition."""
    users = "users:\n" + user("anna", 1, options="[call-centre-basic]")
    up = 'call_centres:\n  a: {name: A, number: "030 12345651", edition: %s, agents: []}\n'
    current = spec(users + up % "basic" + CC.removeprefix("call_centres:\n") % (50, "standard", ""))
    desired = spec(
        users + up % "standard" + CC.removeprefix("call_centres:\n") % (50, "basic", "anna")
    )
    p = run(desired, state_of(current))
    assert action(p, "call_centre/cc/set-members").follows == ("call_centre/cc/update",)
    takes_in_one_go(tmp_path, current, desired)
