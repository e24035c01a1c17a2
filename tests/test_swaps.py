"""Swaps of extensions and usernames, and the free values they move through."""

from __future__ import annotations

from onenet_apply.planning.swaps import Temporaries
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


def test_a_swap_found_behind_a_chain_of_hand_overs() -> None:
    """anna takes ben's number, ben carl's, carl a free one; dora and emil swap."""
    numbers = [("anna", 1), ("ben", 2), ("carl", 3), ("dora", 4), ("emil", 5)]
    wanted = [("anna", 2), ("ben", 3), ("carl", 6), ("dora", 5), ("emil", 4)]
    before = spec("users:\n" + "".join(user(u, n) for u, n in numbers))
    p = run(spec("users:\n" + "".join(user(u, n) for u, n in wanted)), state_of(before))
    assert summary(p) == [
        ("user/carl/update-config", "ready"),
        ("user/dora/update-config-temporary", "ready"),
        ("user/ben/update-config", "ready"),
        ("user/emil/update-config", "ready"),
        ("user/anna/update-config", "ready"),
        ("user/dora/update-config", "ready"),
    ]


def test_a_circle_through_a_call_centre_splits_a_configuration_change() -> None:
    """anna gives ben her number and her call centre seat; ben needs the option first,
    anna keeps hers until she has left: her numbers go first, the rest last."""
    cc = 'call_centres:\n  cc: {name: C, number: "030 12345660", edition: basic, agents: %s}\n'
    option = {"options": "[call-centre-basic]"}
    before = spec("users:\n" + user("anna", 1, **option) + user("ben", 2) + cc % "[anna]")
    after = spec("users:\n" + user("anna", 3) + user("ben", 1, **option) + cc % "[ben]")
    p = run(after, state_of(before))
    assert [(a.id, a.values(), a.follows) for a in p.actions] == [
        (
            "user/anna/update-config-numbers",
            {"number": "+493012345603", "extension": "5603"},
            (),
        ),
        (
            "user/ben/update-config",
            {"number": "+493012345601", "extension": "5601", "options": ["call-centre-basic"]},
            ("user/anna/update-config-numbers",),
        ),
        ("call_centre/cc/set-members", {"agents": ["ben"]}, ("user/ben/update-config",)),
        ("user/anna/update-config", {"options": []}, ("call_centre/cc/set-members",)),
    ]
    assert {str(a.status) for a in p.actions} == {"ready"}


def test_a_swap_behind_a_hand_over_is_found() -> None:
    """anna takes ben's extension; ben and carl swap numbers (a circle anna is not in)."""
    ext = {n: {"extension": f'"56{n:02d}"'} for n in (1, 2, 3, 9)}
    before = spec(
        "users:\n"
        + user("anna", 1, **ext[1])
        + user("ben", 2, **ext[2])
        + user("carl", 3, **ext[3])
    )
    after = spec(
        "users:\n"
        + user("anna", 1, **ext[2])
        + user("ben", 3, **ext[9])
        + user("carl", 2, **ext[3])
    )
    p = run(after, state_of(before))
    assert [(a.id, a.values()) for a in p.actions] == [
        ("user/ben/update-config-temporary", {"number": "+493012345600", "extension": "9999"}),
        ("user/anna/update-config", {"extension": "5602"}),
        ("user/carl/update-config", {"number": "+493012345602"}),
        ("user/ben/update-config", {"number": "+493012345603", "extension": "5609"}),
    ]


def test_a_username_swap_moves_through_the_first_temporary_name() -> None:
    before = spec("users:\n" + user("anna", 1, username="alpha") + user("ben", 2, username="beta"))
    after = spec("users:\n" + user("anna", 1, username="beta") + user("ben", 2, username="alpha"))
    p = run(after, state_of(before))
    assert [a.values() for a in p.actions] == [
        {"username": "alpha.swap1"},
        {"username": "alpha"},
        {"username": "beta"},
    ]


def test_two_swaps_are_broken_in_the_order_of_their_first_user() -> None:
    """anna and dora swap, ben and carl swap: anna's circle is found (and parked) first."""
    numbers = [("anna", 1), ("ben", 2), ("carl", 3), ("dora", 4)]
    wanted = [("anna", 4), ("ben", 3), ("carl", 2), ("dora", 1)]
    before = spec("users:\n" + "".join(user(u, n) for u, n in numbers))
    p = run(spec("users:\n" + "".join(user(u, n) for u, n in wanted)), state_of(before))
    assert [(a.id, a.values()) for a in p.actions[:2]] == [
        ("user/anna/update-config-temporary", {"number": "+493012345600", "extension": "9999"}),
        ("user/ben/update-config-temporary", {"number": "+493012345605", "extension": "9998"}),
    ]
