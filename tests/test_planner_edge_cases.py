"""The platform's edge cases, one by one: exact actions, statuses and order.

test_N_... shows case N of docs/edge-cases.md, which lists the other tests of each case."""

from __future__ import annotations

from dataclasses import replace

import pytest

from onenet_apply.model.plan import Kind, Status
from tests.planner_kit import run, spec, state_of, summary, user


def test_1_swap_numbers_of_two_activated_users_goes_through_a_free_number() -> None:
    before = spec("users:\n" + user("anna", 1) + user("ben", 2))
    after = spec("users:\n" + user("anna", 2) + user("ben", 1))
    p = run(after, state_of(before))
    assert summary(p) == [
        ("user/anna/update-config-temporary", "ready"),
        ("user/ben/update-config", "ready"),
        ("user/anna/update-config", "ready"),
    ]
    park, ben, anna = p.actions
    assert park.values() == {"number": "+493012345600", "extension": "9999"}
    assert ben.values() == {"number": "+493012345601", "extension": "5601"}
    assert anna.values() == {"number": "+493012345602", "extension": "5602"}
    assert dict((c.field, c.before) for c in anna.changes) == {
        "number": "+493012345600",
        "extension": "9999",
    }
    assert anna.follows == ("user/anna/update-config-temporary", "user/ben/update-config")


def test_1_swap_without_a_free_number_is_refused_with_a_reason() -> None:
    before = spec("users:\n" + user("anna", 1) + user("ben", 2))
    after = spec("users:\n" + user("anna", 2) + user("ben", 1))
    full_pool = replace(
        after, site=replace(after.site, number_pool=("+493012345601", "+493012345602"))
    )
    p = run(full_pool, state_of(before))
    blocked = [a for a in p.actions if a.status is Status.BLOCKED]
    assert blocked and "needs a free number in site.number_pool" in blocked[0].reason
    assert all(a.status is not Status.READY for a in p.actions)


def test_2_delete_x_and_give_its_number_to_new_y() -> None:
    before = spec("users:\n" + user("xaver", 1))
    after = spec("users:\n" + user("yusuf", 1))
    p = run(after, state_of(before))
    assert summary(p) == [("user/xaver/delete", "ready"), ("user/yusuf/create", "ready")]
    assert p.actions[1].follows == ("user/xaver/delete",)
    gated = run(spec("users:\n" + user("yusuf", 1), allow_delete=False), state_of(before))
    assert summary(gated) == [("user/xaver/delete", "gated"), ("user/yusuf/create", "gated")]
    assert gated.actions[1].reason == (
        "waits for user/xaver/delete (gated: deleting needs --allow-delete or "
        "policy.allow_delete: true)"
    )
    allowed = run(
        spec("users:\n" + user("yusuf", 1), allow_delete=False), state_of(before), allow_delete=True
    )
    assert summary(allowed) == summary(p)


def test_3_renames_are_updates_never_delete_and_create() -> None:
    before = spec("users:\n" + user("anna", 1))
    names = spec("users:\n" + user("anna", 1, first_name="Annabel", last_name="Schmitt"))
    assert summary(run(names, state_of(before))) == [("user/anna/update-profile", "ready")]
    username = spec("users:\n" + user("anna", 1, username="a.schmitt"))
    p = run(username, state_of(before))
    assert summary(p) == [("user/anna/update-config", "ready")]
    assert p.actions[0].values() == {"username": "a.schmitt"}


def test_4_pending_user_in_hunt_group_and_call_centre_is_deferred_pickup_goes_ahead() -> None:
    groups = (
        'hunt_groups:\n  sales: {name: S, number: "030 12345650", policy: circular, '
        "members: [anna]}\n"
        'call_centres:\n  cc: {name: C, number: "030 12345660", edition: basic, '
        "agents: [anna]}\n"
        "call_pickup_groups:\n  floor: {name: F, members: [anna]}\n"
        "call_park_groups:\n  park: {name: P, members: [anna]}\n"
    )
    users = "users:\n" + user("anna", 1, options="[call-centre-basic]")
    empty_groups = spec(users + groups.replace("[anna]", "[]"))
    p = run(spec(users + groups), state_of(empty_groups, anna="pending"))
    assert summary(p) == [
        ("hunt_group/sales/set-members", "deferred"),
        ("call_centre/cc/set-members", "deferred"),
        ("call_pickup_group/floor/set-members", "ready"),
        ("call_park_group/park/set-members", "ready"),
    ]
    assert p.actions[0].reason == "until anna is activated"


def test_5_user_moved_between_pickup_groups_leaves_the_old_one_first() -> None:
    users = "users:\n" + user("anna", 1) + user("ben", 2)
    before = spec(
        users + "call_pickup_groups:\n  a: {name: A, members: [anna, ben]}\n"
        "  b: {name: B, members: []}\n"
    )
    after = spec(
        users + "call_pickup_groups:\n  a: {name: A, members: [ben]}\n"
        "  b: {name: B, members: [anna]}\n"
    )
    p = run(after, state_of(before))
    assert summary(p) == [
        ("call_pickup_group/a/set-members", "ready"),
        ("call_pickup_group/b/set-members", "ready"),
    ]
    assert p.actions[1].follows == ("call_pickup_group/a/set-members",)
    park_before = spec(
        users + "call_park_groups:\n  z: {name: Z, members: [anna]}\n  a: {name: A, members: []}\n"
    )
    park_after = spec(
        users + "call_park_groups:\n  z: {name: Z, members: []}\n  a: {name: A, members: [anna]}\n"
    )
    p = run(park_after, state_of(park_before))
    # "a" sorts first, but must wait for "z" to let anna go
    assert summary(p) == [
        ("call_park_group/z/set-members", "ready"),
        ("call_park_group/a/set-members", "ready"),
    ]


def test_6_failed_user_is_blocked_not_recreated_and_keeps_its_number() -> None:
    before = spec("users:\n" + user("anna", 1) + user("ben", 2))
    p = run(before, state_of(before, ben="failed"))
    # reported as what it is, never as a create; nothing is done to it
    assert summary(p) == [("user/ben/activation-failed", "blocked")]
    assert p.actions[0].kind is Kind.ACTIVATION_FAILED and p.actions[0].changes == ()
    assert p.actions[0].reason == (
        "activation failed: contact the One Net Business team; "
        "they can retry the activation or remove the user"
    )
    # changes to it wait for the team as well: still that one line
    renamed = spec("users:\n" + user("anna", 1) + user("ben", 2, first_name="Benno"))
    assert summary(run(renamed, state_of(before, ben="failed"))) == [
        ("user/ben/activation-failed", "blocked")
    ]
    # dropped from the site file: not deleted (the platform cannot), the same advice
    p = run(spec("users:\n" + user("anna", 1)), state_of(before, ben="failed"))
    assert summary(p) == [("user/ben/activation-failed", "blocked")]
    assert "ask them to remove the user" in p.actions[0].reason
    # its number is still held: another user cannot take it
    taker = spec("users:\n" + user("anna", 1) + user("carl", 2))
    p = run(taker, state_of(before, ben="failed"))
    assert summary(p) == [
        ("user/ben/activation-failed", "blocked"),
        ("user/carl/create", "blocked"),
    ]
    carl = next(a for a in p.actions if a.id == "user/carl/create")
    assert carl.reason.startswith(
        "waits for user/ben/activation-failed (blocked: activation failed: "
        "contact the One Net Business team"
    )


@pytest.mark.parametrize(
    ("group", "kind"),
    [
        (
            'hunt_groups:\n  sales: {name: S, number: "030 12345650", policy: circular}\n',
            "hunt_group",
        ),
        (
            'call_centres:\n  sales: {name: S, number: "030 12345650", edition: basic, '
            "agents: [], supervisors: []}\n",
            "call_centre",
        ),
    ],
)
def test_6_a_failed_group_is_reported_the_same_way(group: str, kind: str) -> None:
    users = "users:\n" + user("anna", 1)
    before = spec(users + group)
    p = run(before, state_of(before, sales="failed"))
    assert summary(p) == [(f"{kind}/sales/activation-failed", "blocked")]
    what = kind.replace("_", " ")
    assert p.actions[0].reason.endswith(f"they can retry the activation or remove the {what}")
    p = run(spec(users), state_of(before, sales="failed"))  # dropped: never a delete
    assert summary(p) == [(f"{kind}/sales/activation-failed", "blocked")]


def test_7_deactivated_user_in_a_hunt_group_is_kept_with_a_warning() -> None:
    deactivated = (
        ', status: deactivated, deactivation: {transfer_to: "030 12345601", caller: hears-number}'
    )
    users_before = "users:\n" + user("anna", 1) + user("karl", 2)
    users_after = "users:\n" + user("anna", 1) + user("karl", 2).replace("}\n", deactivated + "}\n")
    group = (
        'hunt_groups:\n  sales: {name: S, number: "030 12345650", policy: circular, '
        "members: [anna, karl]}\n"
    )
    p = run(spec(users_after + group), state_of(spec(users_before + group)))
    assert summary(p) == [("user/karl/deactivate", "ready")]
    # membership unchanged: nothing written, but the plan warns all the same
    assert p.warnings == ("karl is deactivated and stays in hunt group sales",)
    # and keeps warning once karl is deactivated and nothing is left to do
    settled = spec(users_after + group)
    p = run(settled, state_of(settled, karl="deactivated"))
    assert p.empty and p.warnings == ("karl is deactivated and stays in hunt group sales",)
    # a plan that writes the list with karl in it says so on the write too, warning once
    group_after = group.replace("[anna, karl]", "[karl, anna]")
    p = run(spec(users_after + group_after), state_of(spec(users_before + group)))
    assert p.warnings == ("karl is deactivated and stays in hunt group sales",)
    [write] = [a for a in p.actions if a.kind is Kind.SET_MEMBERS]
    assert write.notes == ("karl is deactivated and stays in hunt group sales",)


def test_8_extension_collision_is_caught_at_validation() -> None:
    from tests.conftest import FIXTURES
    from tests.test_validate_fixtures import expected_problems

    [problem] = expected_problems(FIXTURES / "invalid" / "extension-collision.yaml")
    assert "collides with the extension of users.anna" in problem


def test_9_licences_are_freed_before_they_are_used() -> None:
    limits = "  licences: {professional: 1}"
    before = spec(
        "users:\n" + user("anna", 1, package="professional") + user("ben", 2), site_extra=limits
    )
    after = spec(
        "users:\n" + user("anna", 1) + user("ben", 2, package="professional"), site_extra=limits
    )
    p = run(after, state_of(before))
    assert summary(p) == [("user/anna/update-config", "ready"), ("user/ben/update-config", "ready")]
    assert p.actions[1].follows == ("user/anna/update-config",)
    # the same plan for an unlimited site has no such edge
    free = run(
        spec("users:\n" + user("anna", 1) + user("ben", 2, package="professional")),
        state_of(spec("users:\n" + user("anna", 1, package="professional") + user("ben", 2))),
    )
    assert all(a.follows == () for a in free.actions)


def test_10_a_referenced_group_is_not_deleted_while_the_reference_stays() -> None:
    users = "users:\n" + user("anna", 1)
    target = '  target: {name: T, number: "030 12345650", policy: circular}\n'
    front = (
        '  front: {name: F, number: "030 12345651", policy: circular, '
        'no_answer: {forward_to: "030 12345650"}}\n'
    )
    before = spec(users + "hunt_groups:\n" + target + front)
    kept_reference = spec(users + "hunt_groups:\n" + front)
    p = run(kept_reference, state_of(before))
    assert summary(p) == [("hunt_group/target/delete", "blocked")]
    assert p.actions[0].reason == "hunt group front still forwards to +493012345650"
    dropped = spec(
        users + "hunt_groups:\n" + front.replace(', no_answer: {forward_to: "030 12345650"}', "")
    )
    p = run(dropped, state_of(before))
    assert summary(p) == [
        ("hunt_group/front/update", "ready"),
        ("hunt_group/target/delete", "ready"),
    ]
    assert p.actions[1].follows == ("hunt_group/front/update",)


HUNT = '  {gid}: {{name: {gid}, number: "030 123456{n}", policy: circular{extra}}}\n'


def hunt(gid: str, n: int, forward_to: int | None = None) -> str:
    extra = f', no_answer: {{forward_to: "030 123456{forward_to}"}}' if forward_to else ""
    return HUNT.format(gid=gid, n=n, extra=extra)


def test_10_a_group_deleted_with_the_one_forwarding_to_it_goes_after_it() -> None:
    """`a` sorts first, but `z` forwards to it: z's deletion goes first."""
    users = "users:\n" + user("anna", 1)
    before = spec(users + "hunt_groups:\n" + hunt("a", 50) + hunt("z", 51, forward_to=50))
    p = run(spec(users), state_of(before))
    assert summary(p) == [("hunt_group/z/delete", "ready"), ("hunt_group/a/delete", "ready")]
    assert p.actions[1].follows == ("hunt_group/z/delete",)


def test_10_groups_deleted_together_forwarding_to_each_other_are_blocked() -> None:
    users = "users:\n" + user("anna", 1)
    circle = hunt("a", 50, forward_to=51) + hunt("b", 51, forward_to=52) + hunt("c", 52, 50)
    p = run(
        spec(users + "hunt_groups:\n" + hunt("d", 53)),
        state_of(spec(users + "hunt_groups:\n" + circle + hunt("d", 53))),
    )
    assert summary(p) == [
        ("hunt_group/a/delete", "blocked"),
        ("hunt_group/b/delete", "blocked"),
        ("hunt_group/c/delete", "blocked"),
    ]
    assert p.actions[0].reason == (
        "deleted with hunt_group/b, hunt_group/c, each forwarding or transferring to "
        "another's number: take one forward or transfer away first"
    )


@pytest.mark.parametrize(
    ("site_extra", "lifecycles"),
    [('  unmanaged: ["svc-*"]\n', {}), ("", {"svc-x": "failed"})],
    ids=["unmanaged", "failed"],
)
def test_10_a_holder_the_plan_leaves_as_it_is_blocks_the_deletion(
    site_extra: str, lifecycles: dict[str, str]
) -> None:
    users = "users:\n" + user("anna", 1)
    holder = hunt("svc-x", 51, forward_to=50)
    before = spec(users + "hunt_groups:\n" + hunt("c", 50) + holder)
    wanted = spec(users, site_extra=site_extra)
    p = run(wanted, state_of(before, **lifecycles))
    deletion = next(a for a in p.actions if a.id == "hunt_group/c/delete")
    assert deletion.status is Status.BLOCKED
    assert deletion.reason == "hunt group svc-x still forwards to +493012345650"
