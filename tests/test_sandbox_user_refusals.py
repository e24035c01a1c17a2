"""The sandbox refuses, on its own, user actions the platform refuses, whatever sends
them (a direct call, a hand-edited plan): each refusal names its rule and changes nothing."""

from __future__ import annotations

import pytest

from onenet_apply.backends.base import ConflictError
from onenet_apply.model.plan import Action, Kind
from tests.sandbox_kit import SITE, act, create_group, deactivate, user_in_state, user_values
from tests.test_sandbox_rules import refused, site  # noqa: F401  (the fixture)


def test_a_creation_with_a_field_the_platform_does_not_know_is_refused(site) -> None:  # noqa: F811
    before = site.read_state(SITE)
    action = act(Kind.CREATE, "user", "dora", **user_values(4, colour="blue"))
    with pytest.raises(ConflictError) as caught:
        site.execute(SITE, action)
    assert str(caught.value) == "a user creation cannot change colour"
    assert site.read_state(SITE) == before


def test_a_deactivation_changes_nothing_but_the_status(site) -> None:  # noqa: F811
    before = site.read_state(SITE)
    action = act(
        Kind.DEACTIVATE,
        "user",
        "anna",
        status="deactivated",
        deactivation={"transfer_to": "+493012345699", "caller": "hears-number"},
        number="+493012345650",
    )
    with pytest.raises(ConflictError) as caught:
        site.execute(SITE, action)
    assert str(caught.value) == "a deactivation cannot change number"
    assert site.read_state(SITE) == before


@pytest.mark.parametrize(
    ("action", "detail"),
    [
        (act(Kind.CREATE, "user", "dora", **user_values(4, package="gold")), "package 'gold'"),
        (act(Kind.CREATE, "user", "dora", **user_values(4, options=["fax"])), "option 'fax'"),
        (act(Kind.CREATE, "user", "dora", **user_values(4, services=["fax"])), "service 'fax'"),
        (
            act(Kind.CREATE, "user", "dora", **user_values(4, desk_phone="nokia-3310")),
            "desk phone 'nokia-3310'",
        ),
        (act(Kind.UPDATE_CONFIG, "user", "anna", package="gold"), "package 'gold'"),
        (act(Kind.UPDATE_CONFIG, "user", "anna", options=["fax"]), "option 'fax'"),
        (
            act(Kind.UPDATE_CONFIG, "user", "anna", desk_phone="nokia-3310"),
            "desk phone 'nokia-3310'",
        ),
        (act(Kind.UPDATE_PROFILE, "user", "anna", services=["fax"]), "service 'fax'"),
    ],
    ids=[
        "create-package",
        "create-option",
        "create-service",
        "create-desk-phone",
        "config-package",
        "config-option",
        "config-desk-phone",
        "profile-service",
    ],
)
def test_a_name_outside_the_catalogue_is_refused(site, action: Action, detail: str) -> None:  # noqa: F811
    assert refused(site, action, "catalogue").detail == f"unknown {detail}"


def test_an_agent_may_change_options_that_keep_the_level_its_centre_needs(site) -> None:  # noqa: F811
    user_in_state(site, "dora", 4, "activated", options=["call-centre-basic"])
    create_group(site, "call_centre", "basic", 1, edition="basic", agents=["dora"])
    site.execute(
        SITE,
        act(Kind.UPDATE_CONFIG, "user", "dora", options=["receptionist", "call-centre-basic"]),
    )
    user = site.read_state(SITE).users["dora"].item
    assert user.options == ("receptionist", "call-centre-basic")
    refused(site, act(Kind.UPDATE_CONFIG, "user", "dora", options=["receptionist"]), "agent-option")


def test_a_lifecycle_refusal_names_the_user(site) -> None:  # noqa: F811
    error = refused(site, act(Kind.REACTIVATE, "user", "anna"), "lifecycle:reactivate")
    assert error.detail == "cannot reactivate user anna: it is activated"


@pytest.mark.parametrize("kind", [Kind.UPDATE_PROFILE, Kind.UPDATE_CONFIG])
def test_an_update_changing_no_field_is_accepted_and_changes_nothing(site, kind: Kind) -> None:  # noqa: F811
    before = site.read_state(SITE)
    assert site.execute(SITE, act(kind, "user", "anna")).credential is None
    assert site.read_state(SITE) == before


@pytest.mark.parametrize(
    ("field", "old", "new"),
    [("number", "+493012345601", "+493012345690"), ("extension", "5601", "5690")],
)
def test_a_user_changing_its_number_frees_the_old_one_and_holds_the_new(
    site,  # noqa: F811
    field: str,
    old: str,
    new: str,
) -> None:
    site.execute(SITE, act(Kind.UPDATE_CONFIG, "user", "anna", **{field: new}))
    error = refused(
        site, act(Kind.CREATE, "user", "dora", **user_values(4, **{field: new})), f"{field}-unique"
    )
    assert error.detail == f"{field} {new} is held by user/anna"
    site.execute(SITE, act(Kind.CREATE, "user", "dora", **user_values(4, **{field: old})))


@pytest.mark.parametrize(
    "values",
    [{"package": "professional"}, {"package": "professional", "desk_phone": "yealink-t54w"}],
    ids=["phone-unnamed", "phone-kept"],
)
def test_a_configuration_change_keeping_the_desk_phone_keeps_its_login(site, values) -> None:  # noqa: F811
    password = site.reset_login(SITE, "anna").password
    result = site.execute(SITE, act(Kind.UPDATE_CONFIG, "user", "anna", **values))
    assert result.credential is None
    assert site.verify_login(SITE, "anna", password)


def test_the_state_read_back_shows_who_is_deactivated(site) -> None:  # noqa: F811
    site.execute(SITE, deactivate("ben"))
    users = site.read_state(SITE).users
    assert (users["anna"].item.status, users["ben"].item.status) == ("active", "deactivated")
