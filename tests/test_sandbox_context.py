"""backends/sandbox/context.py: what one sandbox transaction works with.

Every rule check refuses by raising an error that names its rule (`[lifecycle:config]`,
`[number-unique]`, ...) and writes nothing; the transaction around the batch undoes
what came before the refusal. A number or extension is held by one owner at a time:
claimed, released, moved. The carrier's clock says when a new object is activated.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onenet_apply.backends.base import ConflictError, NotFoundError, RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.context import SiteTx, check_values, only_fields, require_state
from onenet_apply.backends.sandbox.store import transaction
from onenet_apply.model.plan import Kind
from onenet_apply.model.state import Lifecycle
from tests.sandbox_kit import SITE, act, create_group, create_user, deactivate, user_in_state


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SandboxBackend]:
    """anna (activated, number ...01, extension 5601) and ben (pending) on the site."""
    backend = SandboxBackend(tmp_path / "sandbox.db")
    user_in_state(backend, "anna", 1, "activated")
    create_user(backend, "ben", 2, desk_phone="none", options=[])
    create_group(backend, "call_pickup_group", "floor", 1)
    yield backend
    backend.close()


def tx_of(backend: SandboxBackend, activation: str = "manual", licences=None) -> SiteTx:
    return SiteTx(backend.db, SITE, backend.catalogue(), activation, licences)


def held(db: sqlite3.Connection, table: str) -> dict[str, str]:
    rows = db.execute(f"SELECT * FROM {table} WHERE site = ?", (SITE,)).fetchall()
    return {row[1]: f"{row[2]}/{row[3]}" for row in rows}


def everything(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every row the site's rules guard (the journal records refusals: left out)."""
    tables = ("sites", "users", "groups", "numbers", "extensions", "members")
    return {
        t: [tuple(r) for r in db.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3")] for t in tables
    }


# -- the carrier's clock ---------------------------------------------------------------
def test_the_activation_mode_says_when_the_carrier_activates(backend: SandboxBackend) -> None:
    now = time.time()
    assert tx_of(backend, "manual").activate_at() is None
    immediate = tx_of(backend, "immediate").activate_at()
    assert immediate is not None and now <= immediate <= time.time()
    later = tx_of(backend, "after:30").activate_at()
    assert later is not None and now + 30 <= later <= time.time() + 30
    assert tx_of(backend, "after:0.5").activate_at() == pytest.approx(time.time() + 0.5, abs=0.2)


# -- lookups -----------------------------------------------------------------------------
def test_lookups_find_the_row_or_say_what_is_missing(backend: SandboxBackend) -> None:
    tx = tx_of(backend)
    assert tx.user("anna")["lifecycle"] == "activated"
    assert tx.group("call_pickup_group", "floor")["name"] == "Pickup 1"
    with pytest.raises(NotFoundError, match=f"no user zed on site {SITE}"):
        tx.user("zed")
    with pytest.raises(NotFoundError, match=f"no hunt_group floor on site {SITE}"):
        tx.group("hunt_group", "floor")  # an id names a group of one type only
    other = SiteTx(backend.db, "elsewhere", backend.catalogue(), "manual", None)
    with pytest.raises(NotFoundError):
        other.user("anna")  # and of one site only


# -- numbers and extensions ----------------------------------------------------------------
@pytest.mark.parametrize(
    "table,value,free,rule",
    [
        ("numbers", "+493012345601", "+493012345690", "number-unique"),
        ("extensions", "5601", "5690", "extension-unique"),
    ],
)
def test_a_value_has_one_owner_at_a_time(
    backend: SandboxBackend, table: str, value: str, free: str, rule: str
) -> None:
    tx = tx_of(backend)
    before = held(backend.db, table)
    assert before[value] == "user/anna"
    with pytest.raises(RefusedError) as refused:
        tx.claim(table, value, "hunt_group", "sales")
    assert refused.value.rule == rule and "is held by user/anna" in str(refused.value)
    assert held(backend.db, table) == before  # the refusal wrote nothing

    tx.claim(table, free, "hunt_group", "sales")
    assert held(backend.db, table) == {**before, free: "hunt_group/sales"}
    tx.release(table, free)
    tx.release(table, None)  # nothing held: nothing to release
    assert held(backend.db, table) == before
    tx.claim(table, free, "user", "ben")  # released is free for anyone
    assert held(backend.db, table)[free] == "user/ben"


def test_a_move_releases_the_old_value_and_claims_the_new(backend: SandboxBackend) -> None:
    tx = tx_of(backend)
    tx.move("numbers", "+493012345601", "+493012345690", "user", "anna")
    numbers = held(backend.db, "numbers")
    assert "+493012345601" not in numbers and numbers["+493012345690"] == "user/anna"
    writes = backend.db.total_changes
    tx.move("numbers", "+493012345690", "+493012345690", "user", "anna")  # no change
    assert backend.db.total_changes == writes  # and no write
    tx.move("numbers", "+493012345690", None, "user", "anna")  # given up
    assert "+493012345690" not in held(backend.db, "numbers")
    tx.move("numbers", None, "+493012345691", "user", "anna")  # taken up
    assert held(backend.db, "numbers")["+493012345691"] == "user/anna"


def test_a_refused_move_inside_a_transaction_changes_nothing(backend: SandboxBackend) -> None:
    """The move releases first, then its claim is refused: the transaction every
    batch runs in undoes the release."""
    before = everything(backend.db)
    with pytest.raises(RefusedError, match=r"\[number-unique\]"), transaction(backend.db):
        tx_of(backend).move("numbers", "+493012345602", "+493012345601", "user", "ben")
    assert everything(backend.db) == before


# -- catalogue and licences ----------------------------------------------------------------
def test_the_catalogue_refuses_what_it_does_not_list(backend: SandboxBackend) -> None:
    tx = tx_of(backend)
    packages = backend.catalogue().packages
    tx.check_catalogue("package", ["standard", "professional"], packages)
    with pytest.raises(RefusedError, match=r"unknown package 'gold' \[catalogue\]"):
        tx.check_catalogue("package", ["standard", "gold"], packages)


def limited(backend: SandboxBackend, licences: dict[str, int] | None) -> SiteTx:
    """A transaction on the site after its owned licences are set to `licences`."""
    backend.configure(SITE, licences=licences or {})
    return tx_of(backend, licences=backend.settings(SITE)["licences"])


def test_licences_are_counted_over_packages_and_options(backend: SandboxBackend) -> None:
    """anna: standard with call-centre-standard; ben: standard without options."""
    limited(backend, None).check_licences(["standard"])  # no limits at all
    limited(backend, {"professional": 0}).check_licences(["standard"])  # not limited
    limited(backend, {"standard": 2}).check_licences(["standard"])  # exactly enough
    with pytest.raises(RefusedError) as refused:
        limited(backend, {"standard": 1}).check_licences(["standard"])
    assert refused.value.rule == "licences"
    assert refused.value.detail == "the site owns 1 standard licences; 2 would be needed"
    with pytest.raises(RefusedError, match="owns 0 call-centre-standard licences; 1 would"):
        limited(backend, {"call-centre-standard": 0}).check_licences(
            ["standard", "call-centre-standard"]
        )
    limited(backend, {"call-centre-standard": 0}).check_licences(["standard"])  # not asked


# -- the rule checks that need no database ------------------------------------------------
def test_a_state_outside_the_cell_is_refused_naming_the_rule() -> None:
    allowed = (Lifecycle.ACTIVATED, Lifecycle.DEACTIVATED)
    require_state("activated", allowed, "config", "change the configuration of user anna")
    with pytest.raises(RefusedError) as refused:
        require_state("pending", allowed, "config", "change the configuration of user anna")
    assert refused.value.rule == "lifecycle:config"
    assert str(refused.value) == (
        "cannot change the configuration of user anna: it is pending [lifecycle:config]"
    )
    with pytest.raises(RefusedError, match="contact the One Net Business team") as failed:
        require_state("failed", allowed, "config", "change the configuration of user anna")
    assert failed.value.rule == "lifecycle:config"


def test_values_are_checked_whatever_path_an_action_took() -> None:
    check_values("user", {"first_name": "Anna", "number": "+493012345601"}, "anna")
    with pytest.raises(RefusedError) as bad_id:
        check_values("user", {"first_name": "Anna"}, "Anna Schmidt")
    assert bad_id.value.rule == "value:id" and "'Anna Schmidt'" in str(bad_id.value)
    with pytest.raises(RefusedError) as bad_number:
        check_values("user", {"first_name": "Anna", "number": "030 123"})
    assert bad_number.value.rule == "value:number"
    with pytest.raises(RefusedError) as too_long:
        check_values("user", {"first_name": "A" * 500})
    assert too_long.value.rule == "value:first_name"


def test_an_update_carries_only_its_own_fields() -> None:
    allowed = frozenset({"first_name", "last_name"})
    only_fields({"first_name": "A"}, allowed, "a profile update")
    only_fields({}, allowed, "a profile update")
    with pytest.raises(ConflictError, match=r"^a profile update cannot change number, package$"):
        only_fields(
            {"package": "x", "first_name": "A", "number": "+4930"}, allowed, "a profile update"
        )


# -- through the backend: a refused action names its rule and changes nothing -----------------
@pytest.mark.parametrize(
    "action,error,names",
    [
        (
            act(Kind.UPDATE_CONFIG, "user", "ben", package="professional"),
            RefusedError,
            "[lifecycle:config]",
        ),
        (deactivate("ben"), RefusedError, "[lifecycle:deactivate]"),
        (
            act(Kind.UPDATE_PROFILE, "user", "anna", package="professional"),
            ConflictError,
            "cannot change package",
        ),
        (
            act(Kind.UPDATE_PROFILE, "user", "anna", first_name="A" * 500),
            RefusedError,
            "[value:first_name]",
        ),
        (
            act(Kind.UPDATE_CONFIG, "user", "anna", number="+493012345602"),
            RefusedError,
            "[number-unique]",
        ),
        (
            act(Kind.UPDATE_CONFIG, "user", "anna", extension="5602", number="+493012345690"),
            RefusedError,
            "[extension-unique]",
        ),
        (act(Kind.UPDATE_CONFIG, "user", "anna", package="gold"), RefusedError, "[catalogue]"),
    ],
    ids=[
        "lifecycle",
        "lifecycle-deactivate",
        "fields",
        "values",
        "number",
        "extension",
        "catalogue",
    ],
)
def test_a_refused_action_names_its_rule_and_changes_nothing(
    backend: SandboxBackend, action, error: type, names: str
) -> None:
    before = everything(backend.db)
    with pytest.raises(error) as refused:
        backend.execute(SITE, action)
    assert names in str(refused.value)
    assert everything(backend.db) == before
