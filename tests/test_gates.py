"""The change gate at its exact boundary, and what it holds back."""

from __future__ import annotations

from dataclasses import replace

from onenet_apply.model.plan import Status
from onenet_apply.model.spec import Policy, SiteSpec
from tests.planner_kit import run, spec, state_of, summary, user

HUNT = 'hunt_groups:\n  sales: {name: S, number: "030 12345690", policy: circular, members: %s}\n'


def _site(body: str, limit: int) -> SiteSpec:
    loaded = spec(body)
    return replace(loaded, site=replace(loaded.site, policy=Policy(True, limit)))


def _users(count: int, renamed: int) -> str:
    return "users:\n" + "".join(
        user(f"u{i}", i, first_name="New") if i < renamed else user(f"u{i}", i)
        for i in range(count)
    )


def test_a_share_just_over_the_limit_is_gated() -> None:
    # 1 of 11 users is 9.09%: more than 9%, by less than a hundredth
    p = run(_site(_users(11, 1), 9), state_of(_site(_users(11, 0), 9)))
    assert summary(p) == [("user/u0/update-profile", "gated")]
    assert p.actions[0].reason == (
        "this plan changes 1 of 11 users (9%), more than "
        "policy.max_change_percent (9%): re-run with --force"
    )
    assert summary(run(_site(_users(11, 1), 10), state_of(_site(_users(11, 0), 10)))) == [
        ("user/u0/update-profile", "ready")
    ]


def test_the_change_gate_holds_ready_user_actions_only() -> None:
    before = _site(_users(10, 0) + HUNT % "[u9]", 30)
    body = _users(10, 4).replace(
        '030 12345603", package: standard', '030 12345603", package: professional'
    )
    after = _site(body + HUNT % "[u9, u8]", 30)
    p = run(after, state_of(before, u3="pending"))
    statuses = dict(summary(p))
    assert statuses.pop("hunt_group/sales/set-members") == "ready"  # not a user
    assert statuses.pop("user/u3/update-config") == "deferred"  # keeps its own reason
    assert set(statuses.values()) == {"gated"}
    assert [a.reason for a in p.actions if a.status is Status.DEFERRED] == ["until u3 is activated"]
