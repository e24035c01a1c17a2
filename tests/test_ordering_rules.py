"""Ordering's rules, each shown on a site the sandbox refuses to change in the other
order (or on the plan itself where the platform would accept either order)."""

from __future__ import annotations

from pathlib import Path

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Action, Plan
from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.planner import plan
from tests.planner_kit import LIFTED, run, spec, state_of, user

USERS = "users:\n" + user("anna", 1) + user("ben", 2)


def _plan(backend: SandboxBackend, desired: SiteSpec) -> Plan:
    return plan(desired, backend.read_state("t"), LIFTED, catalogue=backend.catalogue())


def _change(tmp_path: Path, before: str, after: str) -> Plan:
    """Bring a sandbox to `before`, then apply the ready actions of the plan to `after`
    one by one, in the plan's order (a refusal raises): the plan, which must converge."""
    backend = SandboxBackend(tmp_path / "sandbox.db")
    for _ in range(3):
        for action in _plan(backend, spec(before)).ready:
            backend.execute("t", action)
        backend.activate("t")
    assert _plan(backend, spec(before)).empty
    the_plan = _plan(backend, spec(after))
    for _ in range(3):
        for action in _plan(backend, spec(after)).ready:
            backend.execute("t", action)
        backend.activate("t")
    assert _plan(backend, spec(after)).empty
    return the_plan


def ids(p: Plan) -> list[str]:
    return [a.id for a in p.actions]


def action(p: Plan, action_id: str) -> Action:
    return next(a for a in p.actions if a.id == action_id)


def test_ties_are_broken_by_kind_then_type_then_id() -> None:
    """Actions free to run in any order come as the README says: creates before profile
    updates whatever their ids, users before groups, group settings before member
    lists."""
    groups = (
        'hunt_groups:\n  a: {name: A, number: "030 12345650", policy: circular, members: [anna, ben]}\n'
        '  b: {name: B, number: "030 12345651", policy: circular, members: []}\n'
    )
    current = state_of(spec(USERS + groups))
    desired = spec(
        "users:\n"
        + user("anna", 1, first_name="Anne")
        + user("ben", 2)
        + user("carl", 3)
        + groups.replace("members: [anna, ben]", "members: [ben]").replace("name: B", "name: Bee")
        + '  aa: {name: AA, number: "030 12345652", policy: circular, members: []}\n'
    )
    assert ids(run(desired, current)) == [
        "user/carl/create",
        "hunt_group/aa/create",
        "user/anna/update-profile",
        "hunt_group/b/update",
        "hunt_group/a/set-members",
    ]


def test_users_trading_pickup_groups(tmp_path: Path) -> None:
    """Each list write would wait for the other (a user is in one pickup group at a
    time): one first lets its member go."""
    p = _change(
        tmp_path,
        USERS + "call_pickup_groups:\n  g1: {name: One, members: [anna]}\n"
        "  g2: {name: Two, members: [ben]}\n",
        USERS + "call_pickup_groups:\n  g1: {name: One, members: [ben]}\n"
        "  g2: {name: Two, members: [anna]}\n",
    )
    assert "call_pickup_group/g1/set-members-leave" in ids(p)


def test_users_trading_hunt_groups_need_no_order(tmp_path: Path) -> None:
    """A user may be in many hunt groups: joining one does not wait for leaving another."""
    hunt = (
        'hunt_groups:\n  h1: {name: One, number: "030 12345650", policy: circular, members: [%s]}\n'
        + ('  h2: {name: Two, number: "030 12345651", policy: circular, members: [%s]}\n')
    )
    p = _change(tmp_path, USERS + hunt % ("anna", "ben"), USERS + hunt % ("ben", "anna"))
    assert all(not a.follows for a in p.actions)


def test_a_switch_to_weighted_waits_for_the_weights_beside_another_policy_change(
    tmp_path: Path,
) -> None:
    """Group a changes its policy without a list write; group b's weights (written with
    its list) still come before its switch to weighted, which the platform refuses
    without them."""
    before = (
        'hunt_groups:\n  a: {name: A, number: "030 12345650", policy: circular, members: []}\n'
        '  b: {name: B, number: "030 12345651", policy: circular, members: [anna]}\n'
    )
    after = before.replace("policy: circular, members: []", "policy: regular, members: []")
    after = after.replace(
        "policy: circular, members: [anna]",
        "policy: weighted, members: [anna], weights: {anna: 100}",
    )
    p = _change(tmp_path, USERS + before, USERS + after)
    assert ids(p).index("hunt_group/b/set-members") < ids(p).index("hunt_group/b/update")


def test_a_user_leaves_its_groups_before_it_is_deleted() -> None:
    groups = (
        'hunt_groups:\n  h: {name: H, number: "030 12345650", policy: circular, members: [anna, ben]}\n'
        "call_pickup_groups:\n  g: {name: G, members: [anna, ben]}\n"
    )
    current = state_of(spec(USERS + groups))
    desired = spec("users:\n" + user("ben", 2) + groups.replace("anna, ", ""))
    p = run(desired, current)
    delete = next(a for a in p.actions if a.id == "user/anna/delete")
    assert delete.follows == ("call_pickup_group/g/set-members", "hunt_group/h/set-members")
    assert ids(p)[-1] == "user/anna/delete"


def test_a_deleted_user_goes_first_when_its_successor_takes_its_place_and_number(
    tmp_path: Path,
) -> None:
    """The list write waits for the new user, who waits for the deleted one's number:
    the delete goes first (the platform takes a deleted user out of its groups)."""
    p = _change(
        tmp_path,
        "users:\n" + user("anna", 1) + "call_pickup_groups:\n  g: {name: G, members: [anna]}\n",
        "users:\n" + user("carl", 1) + "call_pickup_groups:\n  g: {name: G, members: [carl]}\n",
    )
    assert ids(p) == ["user/anna/delete", "user/carl/create", "call_pickup_group/g/set-members"]


def test_an_agent_drops_its_option_after_leaving_beside_a_user_gaining_one(
    tmp_path: Path,
) -> None:
    """abe is renamed and gains an option (no agent level lost) ahead of anna in the
    plan; anna still leaves the centre before losing the option its edition needs."""
    centre = (
        'call_centres:\n  cc: {name: CC, number: "030 12345660", edition: basic, agents: [%s]}\n'
    )
    before = (
        "users:\n"
        + user("abe", 3)
        + user("anna", 1, options="[call-centre-basic]")
        + centre % "anna"
    )
    after = (
        "users:\n"
        + user("abe", 3, options="[receptionist]", first_name="Abraham")
        + user("anna", 1)
        + centre % ""
    )
    p = _change(tmp_path, before, after)
    assert ids(p).index("call_centre/cc/set-members") < ids(p).index("user/anna/update-config")


def test_successors_take_the_deleted_users_places_beside_deactivated_members() -> None:
    """As above, in pickup and park groups that also take in deactivated users (who
    wait for no reactivation there): whichever way the search for the circle goes
    through the list write's other waits, each delete still goes first."""
    deactivated = [f"d{i}" for i in range(8)]
    users = "".join(user(d, 10 + i, status="deactivated") for i, d in enumerate(deactivated))
    current_groups = desired_groups = ""
    for kind, section in (("g", "call_pickup_groups"), ("p", "call_park_groups")):
        current_groups += f"{section}:\n"
        desired_groups += f"{section}:\n"
        for n in (1, 2):
            joining = ", ".join(deactivated[4 * (n - 1) : 4 * n])
            current_groups += f"  {kind}{n}: {{name: {kind}{n}, members: [a{n}]}}\n"
            desired_groups += f"  {kind}{n}: {{name: {kind}{n}, members: [s{n}, {joining}]}}\n"
    current = state_of(
        spec("users:\n" + user("a1", 1) + user("a2", 2) + users + current_groups),
        **dict.fromkeys(deactivated, "deactivated"),
    )
    desired = spec("users:\n" + user("s1", 1) + user("s2", 2) + users + desired_groups)
    p = run(desired, current)
    for n in (1, 2):
        assert ids(p).index(f"user/a{n}/delete") < ids(p).index(f"user/s{n}/create")
        for group in (f"call_pickup_group/g{n}", f"call_park_group/p{n}"):
            assert action(p, f"{group}/set-members").follows == (f"user/s{n}/create",)


def test_a_group_is_deleted_after_a_deactivated_user_stops_transferring_to_it(
    tmp_path: Path,
) -> None:
    """The platform refuses to delete a group whose number a transfer still names."""
    group = 'hunt_groups:\n  h: {name: H, number: "030 12345650", policy: circular, members: []}\n'
    away = ", status: deactivated, deactivation: {transfer_to: %s, caller: hears-number}}\n"
    anna = user("anna", 1)[:-2]
    p = _change(
        tmp_path,
        "users:\n" + anna + away % '"030 12345650"' + group,
        "users:\n" + anna + away % '"030 12345602"' + user("ben", 2),
    )
    assert action(p, "hunt_group/h/delete").follows == ("user/anna/deactivate",)


def test_an_agent_staying_in_its_centre_lowers_its_option_without_waiting(
    tmp_path: Path,
) -> None:
    """anna keeps an option the basic edition accepts: the drop waits for no list write,
    not even the one deferred until the new agent ben is activated."""
    centre = (
        'call_centres:\n  cc: {name: CC, number: "030 12345660", edition: basic, agents: [%s]}\n'
    )
    before = "users:\n" + user("anna", 1, options="[call-centre-standard]") + centre % "anna"
    after = (
        "users:\n"
        + user("anna", 1, options="[call-centre-basic]")
        + user("ben", 2, options="[call-centre-basic]")
        + centre % "anna, ben"
    )
    p = _change(tmp_path, before, after)
    drop = action(p, "user/anna/update-config")
    assert (drop.status, drop.follows) == ("ready", ())


def test_the_search_for_a_path_ends_on_a_circle_of_dependencies() -> None:
    """`_reaches` walks dependencies before the order is known, when a circle (a swap
    not yet split) may still be among them: it must end, and find what is reachable."""
    from onenet_apply.model.plan import Kind, Target
    from onenet_apply.planning.draft import Draft
    from onenet_apply.planning.ordering import _reaches

    a = Draft(Kind.UPDATE_CONFIG, Target("user", "a"), {})
    b = Draft(Kind.UPDATE_CONFIG, Target("user", "b"), {})
    c = Draft(Kind.DELETE, Target("user", "c"), {})
    a.deps, b.deps = {b.id}, {a.id, c.id}
    by_id = {d.id: d for d in (a, b, c)}
    assert _reaches(a, c.id, by_id) is True
    assert _reaches(a, "user/z/delete", by_id) is False
