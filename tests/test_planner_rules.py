"""Planner statuses for every lifecycle cell, the safety gates, unmanaged objects."""

from __future__ import annotations

from dataclasses import replace

import pytest

from onenet_apply.model.plan import Kind, Status
from onenet_apply.model.spec import Policy, SiteSpec
from tests.lifecycle_doc import lifecycle_table
from tests.planner_kit import run, spec, state_of, summary, user

STATES = ("pending", "activated", "deactivated", "failed")
DEACTIVATED = (
    ', status: deactivated, deactivation: {transfer_to: "030 12345699", caller: hears-number}'
)


def _users(**anna: str) -> str:
    return "users:\n" + user("owner", 9) + user("anna", 1, **anna)


def _with_status(body: str, lifecycle: str) -> str:
    """A deactivated anna is deactivated in the site file too."""
    if lifecycle != "deactivated":
        return body
    return "\n".join(
        line[:-1] + DEACTIVATED + "}" if line.startswith("  anna:") else line
        for line in body.split("\n")
    )


HUNT = 'hunt_groups:\n  sales: {name: S, number: "030 12345650", policy: circular, members: %s}\n'
PICKUP = "call_pickup_groups:\n  floor: {name: F, members: %s}\n"
PARK = "call_park_groups:\n  park: {name: K, members: %s}\n"
CENTRE = (
    'call_centres:\n  support: {name: C, number: "030 12345660", edition: basic, '
    "agents: [], supervisors: %s}\n"
)

# change -> (site before, site after, expected action id)
CHANGES = {
    "profile": (_users(), _users(first_name="Annabel"), "user/anna/update-profile"),
    "configuration": (_users(), _users(package="professional"), "user/anna/update-config"),
    "hunt group membership": (
        _users() + HUNT % "[owner]",
        _users() + HUNT % "[owner, anna]",
        "hunt_group/sales/set-members",
    ),
    "pickup membership": (
        _users() + PICKUP % "[owner]",
        _users() + PICKUP % "[owner, anna]",
        "call_pickup_group/floor/set-members",
    ),
    "park membership": (
        _users() + PARK % "[owner]",
        _users() + PARK % "[owner, anna]",
        "call_park_group/park/set-members",
    ),
    "call centre membership": (
        _users() + CENTRE % "[owner]",
        _users() + CENTRE % "[owner, anna]",
        "call_centre/support/set-members",
    ),
    "delete": (_users(), "users:\n" + user("owner", 9), "user/anna/delete"),
}
# docs/lifecycle.md's table, as plan statuses
EXPECTED = {
    change: {state: cell.status for state, cell in row.items()}
    for change, row in lifecycle_table().items()
}


def test_every_planned_row_of_the_lifecycle_table_is_checked() -> None:
    planned = {change for change, row in EXPECTED.items() if row["activated"] is not None}
    assert planned == set(CHANGES)


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("lifecycle", STATES)
def test_lifecycle_cell(change: str, lifecycle: str) -> None:
    before, after, action_id = CHANGES[change]
    current = state_of(spec(_with_status(before, lifecycle)), anna=lifecycle)
    p = run(spec(_with_status(after, lifecycle)), current)
    expected = EXPECTED[change][lifecycle]
    if lifecycle == "failed":
        # a failed user is reported once, blocked; nothing is done to it
        assert expected == "blocked"
        assert ("user/anna/activation-failed", "blocked") in summary(p)
        assert [a.id for a in p.actions if a.target.id == "anna"] == ["user/anna/activation-failed"]
        assert all(a.status is Status.BLOCKED for a in p.actions)
        return
    assert (action_id, expected) in summary(p)
    held = next(a for a in p.actions if a.id == action_id)
    if expected == "deferred":
        assert held.reason == "until anna is activated"
    if expected == "blocked" and lifecycle == "deactivated":
        group = change.removesuffix(" membership")
        assert held.reason.startswith(
            f"anna is deactivated: a deactivated user stays in, but cannot join, a {group}"
        )


def test_deactivate_and_reactivate() -> None:
    active = spec(_users())
    deactivated = spec(_with_status(_users(), "deactivated"))
    assert summary(run(deactivated, state_of(active))) == [("user/anna/deactivate", "ready")]
    assert summary(run(active, state_of(deactivated, anna="deactivated"))) == [
        ("user/anna/reactivate", "ready")
    ]
    assert summary(run(deactivated, state_of(active, anna="pending"))) == [
        ("user/anna/deactivate", "deferred")
    ]


def test_new_user_that_starts_deactivated() -> None:
    p = run(
        spec(_with_status(_users(), "deactivated")), state_of(spec("users:\n" + user("owner", 9)))
    )
    assert summary(p) == [("user/anna/create", "ready"), ("user/anna/deactivate", "deferred")]


def test_pending_group_number_change_waits_settings_do_not() -> None:
    base = _users() + HUNT % "[owner]"
    renamed = base.replace("name: S,", "name: Sales,")
    renumbered = base.replace("030 12345650", "030 12345651")
    assert summary(run(spec(renamed), state_of(spec(base), sales="pending"))) == [
        ("hunt_group/sales/update", "ready")
    ]
    assert summary(run(spec(renumbered), state_of(spec(base), sales="pending"))) == [
        ("hunt_group/sales/update", "deferred")
    ]


def test_deletes_are_gated_without_permission() -> None:
    before = spec(_users(), allow_delete=False)
    after = spec("users:\n" + user("owner", 9), allow_delete=False)
    p = run(after, state_of(before))
    assert summary(p) == [("user/anna/delete", "gated")]
    assert p.actions[0].reason == "deleting needs --allow-delete or policy.allow_delete: true"
    assert summary(run(after, state_of(before), allow_delete=True)) == [
        ("user/anna/delete", "ready")
    ]


def test_max_change_percent_gate_on_sites_of_ten_or_more_users() -> None:
    strict = Policy(allow_delete=True, max_change_percent=30)

    def site(count: int, renamed: int) -> SiteSpec:
        body = "".join(
            user(f"u{i}", i, first_name="New") if i < renamed else user(f"u{i}", i)
            for i in range(count)
        )
        loaded = spec("users:\n" + body)
        return replace(loaded, site=replace(loaded.site, policy=strict))

    p = run(site(10, 4), state_of(site(10, 0)))
    assert {a.status for a in p.actions} == {Status.GATED}
    assert p.actions[0].reason == (
        "this plan changes 4 of 10 users (40%), more than "
        "policy.max_change_percent (30%): re-run with --force"
    )
    forced = run(site(10, 4), state_of(site(10, 0)), force=True)
    assert {a.status for a in forced.actions} == {Status.READY}
    assert {a.status for a in run(site(10, 3), state_of(site(10, 0))).actions} == {
        Status.READY
    }  # 30% is not more than 30%
    # a site of fewer than 10 users has no such gate
    assert {a.status for a in run(site(9, 9), state_of(site(9, 0))).actions} == {Status.READY}


def test_unmanaged_objects_are_never_touched() -> None:
    svc = "users:\n" + user("owner", 9) + user("svc-fax", 1, username="svc.fax")
    current = state_of(spec(svc))
    desired = spec("users:\n" + user("owner", 9), site_extra='  unmanaged: ["svc-*"]')
    assert run(desired, current).empty
    # its number stays held: a user wanting it is blocked, with the reason
    taker = spec(
        "users:\n" + user("owner", 9) + user("zoe", 1), site_extra='  unmanaged: ["svc-*"]'
    )
    p = run(taker, current)
    assert summary(p) == [("user/zoe/create", "blocked")]
    assert p.actions[0].reason == (
        "number +493012345601 is held by user/svc-fax, which keeps "
        "it (it is not managed by this site file)"
    )


def test_no_changes_gives_an_empty_plan() -> None:
    site = spec(_users() + HUNT % "[owner, anna]" + PICKUP % "[anna]")
    assert run(site, state_of(site)).empty


def test_weighted_group_waits_whole_for_a_pending_member() -> None:
    weighted = (
        'hunt_groups:\n  sales: {name: S, number: "030 12345650", policy: weighted, '
        "members: %s, weights: %s}\n"
    )
    before = spec(_users() + weighted % ("[owner]", "{owner: 100}"))
    after = spec(_users() + weighted % ("[owner, anna]", "{owner: 50, anna: 50}"))
    p = run(after, state_of(before, anna="pending"))
    assert summary(p) == [("hunt_group/sales/set-members", "deferred")]
    assert p.actions[0].values() == {
        "members": ["owner", "anna"],
        "weights": {"owner": 50, "anna": 50},
    }


def test_list_write_now_and_later() -> None:
    # ben is activated and joins now; anna is pending and joins later
    users = "users:\n" + user("owner", 9) + user("anna", 1) + user("ben", 2)
    before = spec(users + HUNT % "[owner]")
    after = spec(users + HUNT % "[owner, anna, ben]")
    p = run(after, state_of(before, anna="pending"))
    assert summary(p) == [
        ("hunt_group/sales/set-members", "ready"),
        ("hunt_group/sales/set-members-later", "deferred"),
    ]
    assert p.actions[0].values() == {"members": ["owner", "ben"]}
    assert p.actions[1].values() == {"members": ["owner", "anna", "ben"]}
    assert p.actions[1].kind is Kind.SET_MEMBERS


def test_new_users_do_not_count_towards_the_change_gate() -> None:
    strict = Policy(allow_delete=True, max_change_percent=30)
    ten = spec("users:\n" + "".join(user(f"u{i}", i) for i in range(10)))
    twenty = spec("users:\n" + "".join(user(f"u{i}", i) for i in range(20)))
    grown = replace(twenty, site=replace(twenty.site, policy=strict))
    # doubling a site (finishing an interrupted build, say) changes none of its users
    assert {a.status for a in run(grown, state_of(ten)).actions} == {Status.READY}
