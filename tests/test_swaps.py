"""Swaps of extensions and usernames, and the free values they move through."""

from __future__ import annotations

from onenet_apply.swaps import Temporaries
from tests.planner_kit import run, spec, state_of, summary, user

HUNT = (
    'hunt_groups:\n  sales: {name: S, number: "030 12345690", extension: "9999", '
    "policy: circular, members: [anna]}\n"
)


def test_an_extension_swap_parks_on_an_extension_nobody_wants() -> None:
    before = spec(
        "users:\n" + user("anna", 1, extension='"5601"') + user("ben", 2, extension='"5602"')
    )
    # the new hunt group wants 9999, the first free candidate otherwise
    after = spec(
        "users:\n" + user("anna", 1, extension='"5602"') + user("ben", 2, extension='"5601"') + HUNT
    )
    p = run(after, state_of(before))
    assert summary(p) == [
        ("hunt_group/sales/create", "ready"),
        ("user/anna/update-config-temporary", "ready"),
        ("user/ben/update-config", "ready"),
        ("hunt_group/sales/set-members", "ready"),
        ("user/anna/update-config", "ready"),
    ]
    assert [a.values() for a in p.actions[1:3]] == [{"extension": "9998"}, {"extension": "5601"}]


def test_a_username_swap_that_differs_only_in_case_is_a_swap() -> None:
    before = spec("users:\n" + user("anna", 1, username="alpha") + user("ben", 2, username="beta"))
    # carla wants the first temporary name, so the swap moves through the next one
    after = spec(
        "users:\n"
        + user("anna", 1, username="BETA")
        + user("ben", 2, username="alpha")
        + user("carla", 3, username="alpha.swap1")
    )
    p = run(after, state_of(before))
    assert summary(p) == [
        ("user/carla/create", "ready"),
        ("user/anna/update-config-temporary", "ready"),
        ("user/ben/update-config", "ready"),
        ("user/anna/update-config", "ready"),
    ]
    assert [a.values() for a in p.actions[1:]] == [
        {"username": "alpha.swap2"},
        {"username": "alpha"},
        {"username": "BETA"},
    ]


def test_no_free_extension_left() -> None:
    site = spec("users:\n" + user("anna", 1))
    temps = Temporaries(site, state_of(site))
    temps.taken["extension"] |= {f"{n:02d}" for n in range(1, 100)}
    assert temps.take("extension", "42") == "00"  # the last one is found too
    assert temps.take("extension", "42") is None
    assert temps.none_left("extension") == (
        "swapping extensions needs a free extension to move through; none is left"
    )
