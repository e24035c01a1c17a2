"""Member lists: what a list write waits for, and what the plan says about a
deactivated user kept in a hunt group or call centre."""

from __future__ import annotations

from pathlib import Path

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Action, Plan
from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.planner import plan
from tests.planner_kit import LIFTED, run, spec, state_of, user

CENTRE = 'call_centres:\n  cc: {name: CC, number: "030 12345660", edition: basic, agents: [%s]}\n'
HUNT = 'hunt_groups:\n  h: {name: H, number: "030 12345650", policy: circular, members: [%s]}\n'


def action(p: Plan, action_id: str) -> Action:
    return next(a for a in p.actions if a.id == action_id)


def _plan(backend: SandboxBackend, desired: SiteSpec) -> Plan:
    return plan(desired, backend.read_state("t"), LIFTED, catalogue=backend.catalogue())


def test_a_new_agent_joins_after_gaining_the_agent_option(tmp_path: Path) -> None:
    """The platform refuses an agent without the option: the list write follows it."""
    backend = SandboxBackend(tmp_path / "sandbox.db")
    before = spec("users:\n" + user("anna", 1) + CENTRE % "")
    for _ in range(2):
        for a in _plan(backend, before).ready:
            backend.execute("t", a)
        backend.activate("t")
    after = spec("users:\n" + user("anna", 1, options="[call-centre-basic]") + CENTRE % "anna")
    the_plan = _plan(backend, after)
    assert action(the_plan, "call_centre/cc/set-members").follows == ("user/anna/update-config",)
    for a in the_plan.ready:  # in the plan's order: a refusal raises
        backend.execute("t", a)
    assert _plan(backend, after).empty


def test_a_list_write_does_not_wait_for_a_staying_agents_option_change() -> None:
    users = "users:\n" + user("anna", 1, options="[call-centre-basic]")
    ben = user("ben", 2, options="[call-centre-basic]")
    current = state_of(spec(users + ben + CENTRE % "anna"))
    desired = spec(
        "users:\n" + user("anna", 1, options="[call-centre-standard]") + ben + CENTRE % "anna, ben"
    )
    p = run(desired, current)
    assert action(p, "call_centre/cc/set-members").follows == ()


def test_a_deactivated_agent_kept_in_a_call_centre_is_warned_about() -> None:
    anna = user("anna", 1, options="[call-centre-basic]")
    current = state_of(spec("users:\n" + anna + CENTRE % "anna"))
    desired = spec("users:\n" + anna[:-2] + ", status: deactivated}\n" + CENTRE % "anna")
    assert run(desired, current).warnings == (
        "anna is deactivated and stays in call centre cc as an agent",
    )


def test_a_deactivated_user_taken_out_of_a_hunt_group_is_not_said_to_stay() -> None:
    users = "users:\n" + user("anna", 1, status="deactivated") + user("ben", 2)
    current = state_of(spec(users + HUNT % "anna, ben"), anna="deactivated")
    p = run(spec(users + HUNT % "ben"), current)
    assert p.warnings == ()
    assert action(p, "hunt_group/h/set-members").notes == ()


def test_a_user_joining_a_hunt_group_as_it_is_deactivated_stays_there() -> None:
    """It joins first (a deactivated user cannot join), then stays: both are said."""
    current = state_of(spec("users:\n" + user("anna", 1) + HUNT % ""))
    p = run(spec("users:\n" + user("anna", 1, status="deactivated") + HUNT % "anna"), current)
    stays = "anna is deactivated and stays in hunt group h"
    assert p.warnings == (stays,)
    assert action(p, "hunt_group/h/set-members").notes == (stays,)


def test_a_list_write_waits_only_for_the_users_it_adds() -> None:
    """anna, deactivated and staying in the group, is reactivated in the same plan: the
    write that adds ben does not wait for that."""
    anna = user("anna", 1, status="deactivated")
    users = user("ben", 2) + user("carl", 3)
    current = state_of(spec("users:\n" + anna + users + HUNT % "anna, carl"), anna="deactivated")
    p = run(spec("users:\n" + user("anna", 1) + users + HUNT % "anna, carl, ben"), current)
    assert action(p, "hunt_group/h/set-members").follows == ()


def test_a_failed_user_never_joins_and_the_reason_says_so() -> None:
    users = "users:\n" + user("anna", 1) + user("ben", 2)
    current = state_of(
        spec(users + "call_pickup_groups:\n  g: {name: G, members: [ben]}\n"), anna="failed"
    )
    p = run(spec(users + "call_pickup_groups:\n  g: {name: G, members: [ben, anna]}\n"), current)
    later = action(p, "call_pickup_group/g/set-members")
    assert (later.status, later.reason) == (
        "blocked",
        "anna: activation failed: contact the One Net Business team",
    )


def test_deactivated_users_kept_in_groups_are_warned_about_group_by_group() -> None:
    users = (
        "users:\n" + user("anna", 1, status="deactivated") + user("zed", 2, status="deactivated")
    )
    groups = (
        HUNT.replace("h:", "a:") % "zed"
        + HUNT.replace("  h:", "  b:").replace("hunt_groups:\n", "").replace("12345650", "12345651")
        % "anna"
    )
    current = state_of(spec(users + groups), anna="deactivated", zed="deactivated")
    assert run(spec(users + groups), current).warnings == (
        "zed is deactivated and stays in hunt group a",
        "anna is deactivated and stays in hunt group b",
    )


def test_a_user_reactivated_in_the_plan_joins_a_hunt_group_after_its_reactivation() -> None:
    current = state_of(
        spec("users:\n" + user("anna", 1, status="deactivated") + HUNT % ""), anna="deactivated"
    )
    p = run(spec("users:\n" + user("anna", 1) + HUNT % "anna"), current)
    write = action(p, "hunt_group/h/set-members")
    assert (write.status, write.follows) == ("ready", ("user/anna/reactivate",))
