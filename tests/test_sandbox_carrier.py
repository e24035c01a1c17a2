"""backends/sandbox/carrier.py: the carrier activates or fails new users and groups,
and the One Net Business team retries or removes failed ones (docs/domain.md #L8).

Each answer names its objects by id (`anna`) or qualified id (`user/anna`), or takes
all; it is all or nothing: one name that is unknown or not in the expected state
changes nothing. A site's activation mode lets the carrier act by itself:
`manual`, `immediate` or `after:SECONDS`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onenet_apply.backends.base import BackendError, RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.carrier import check_mode, select
from onenet_apply.model.plan import Kind
from tests.sandbox_kit import (
    SITE,
    act,
    create_group,
    create_user,
    deactivate,
    user_in_state,
    user_values,
)


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SandboxBackend]:
    """owner activated; anna, ben and a user `sales` pending; hunt group `sales` pending;
    fay failed."""
    backend = SandboxBackend(tmp_path / "sandbox.db")
    user_in_state(backend, "owner", 9, "activated")
    create_user(backend, "anna", 1)
    create_user(backend, "ben", 2)
    create_user(backend, "sales", 3)
    create_group(backend, "hunt_group", "sales", 1, activate=False)
    user_in_state(backend, "fay", 4, "failed")
    yield backend
    backend.close()


def states(backend: SandboxBackend) -> dict[str, str]:
    state = backend.read_state(SITE)
    out = {f"user/{k}": str(v.lifecycle) for k, v in state.users.items()}
    out.update({f"hunt_group/{k}": str(v.lifecycle) for k, v in state.hunt_groups.items()})
    return out


def rows(backend: SandboxBackend) -> dict[str, list[tuple]]:
    db = backend.db
    return {
        t: [tuple(r) for r in db.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3")]
        for t in ("users", "groups", "numbers", "extensions", "members", "journal")
    }


def test_activate_and_fail_by_id_and_by_qualified_id(backend: SandboxBackend) -> None:
    before = states(backend)
    outcome = backend.activate(SITE, ["anna", "hunt_group/sales"])
    assert (outcome.changed, outcome.skipped) == (["user/anna", "hunt_group/sales"], [])
    assert backend.fail(SITE, ["user/ben"]).changed == ["user/ben"]
    assert states(backend) == {
        **before,
        "user/anna": "activated",
        "hunt_group/sales": "activated",
        "user/ben": "failed",
    }
    assert states(backend)["user/sales"] == "pending"  # the qualified id named the group only
    carried = [(e.action_id, e.detail) for e in backend.journal(SITE)[-3:]]
    assert carried == [
        ("user/anna/carrier", "carrier: activated"),
        ("hunt_group/sales/carrier", "carrier: activated"),
        ("user/ben/carrier", "carrier: failed"),
    ]


def test_an_id_names_every_pending_object_of_that_id(backend: SandboxBackend) -> None:
    assert backend.activate(SITE, ["sales"]).changed == ["user/sales", "hunt_group/sales"]


def test_all_takes_every_pending_object_and_then_there_is_none(backend: SandboxBackend) -> None:
    outcome = backend.activate(SITE)
    assert outcome.changed == ["user/anna", "user/ben", "user/sales", "hunt_group/sales"]
    assert states(backend)["user/fay"] == "failed"  # not pending: not the carrier's
    assert backend.activate(SITE).changed == []


@pytest.mark.parametrize("verb", ["activate", "fail"])
def test_one_unknown_or_not_pending_name_changes_nothing(
    backend: SandboxBackend, verb: str
) -> None:
    before = rows(backend)
    with pytest.raises(BackendError) as refused:
        getattr(backend, verb)(SITE, ["anna", "zed", "owner", "user/fay"])
    assert str(refused.value) == (
        "not pending: zed: no such user or group; owner: it is activated, not pending; "
        "user/fay: it is failed, not pending"
    )
    assert rows(backend) == before


def test_the_team_retries_a_failed_activation(backend: SandboxBackend) -> None:
    assert backend.retry(SITE, ["user/fay"]).changed == ["user/fay"]
    assert states(backend)["user/fay"] == "pending"
    assert backend.journal(SITE)[-1].action_id == "user/fay/team"
    assert backend.activate(SITE, ["fay"]).changed == ["user/fay"]  # the carrier's again


def test_the_team_removes_a_failed_user_and_frees_what_it_held(backend: SandboxBackend) -> None:
    fay = user_values(4)
    assert backend.remove(SITE, ["fay"]).changed == ["user/fay"]
    assert "user/fay" not in states(backend)
    assert backend.check_consistency(SITE) == []
    # its number, extension and username are free: another user takes them at once
    backend.execute(
        SITE,
        act(
            Kind.CREATE,
            "user",
            "gus",
            **user_values(5, **{k: fay[k] for k in ("number", "extension", "username")}),
        ),
    )
    assert states(backend)["user/gus"] == "pending"


def test_a_failed_group_is_removed_with_its_number(backend: SandboxBackend) -> None:
    backend.fail(SITE, ["hunt_group/sales"])
    assert backend.remove(SITE, ["hunt_group/sales"]).changed == ["hunt_group/sales"]
    held = {r[0] for r in backend.db.execute("SELECT number FROM numbers WHERE site = ?", (SITE,))}
    assert "+493012345701" not in held
    assert states(backend)["user/sales"] == "pending"  # the user of the same id stays


@pytest.mark.parametrize("verb", ["retry", "remove"])
def test_one_name_that_has_not_failed_changes_nothing(backend: SandboxBackend, verb: str) -> None:
    before = rows(backend)
    with pytest.raises(BackendError) as refused:
        getattr(backend, verb)(SITE, ["fay", "anna", "zed"])
    assert str(refused.value) == (
        "not failed: anna: it is pending, not failed; zed: no such user or group"
    )
    assert rows(backend) == before


def test_a_removal_that_a_reference_refuses_changes_nothing(backend: SandboxBackend) -> None:
    """All or nothing also when a rule refuses one of several removals: fay, removed
    first, stays while the failed hunt group a transfer points at cannot go."""
    backend.execute(SITE, deactivate("owner", transfer_to="+493012345701"))
    backend.fail(SITE, ["hunt_group/sales"])
    before = rows(backend)
    with pytest.raises(RefusedError) as refused:
        backend.remove(SITE, ["fay", "hunt_group/sales"])
    assert refused.value.rule == "referenced"
    assert "remove hunt_group/sales again" in str(refused.value)
    assert rows(backend) == before


# -- activation modes -----------------------------------------------------------------------
def test_manual_mode_leaves_new_objects_pending(backend: SandboxBackend) -> None:
    create_user(backend, "gus", 5)
    time.sleep(0.05)
    assert states(backend)["user/gus"] == "pending"


def test_immediate_mode_activates_new_objects_at_once(backend: SandboxBackend) -> None:
    backend.configure(SITE, activation="immediate")
    create_user(backend, "gus", 5)
    create_group(backend, "call_centre", "help", 2, activate=False)
    assert states(backend)["user/gus"] == "activated"
    assert backend.read_state(SITE).call_centres["help"].lifecycle == "activated"
    assert states(backend)["user/anna"] == "pending"  # made before: the carrier's by hand


def test_after_mode_activates_new_and_retried_objects_when_the_time_is_up(
    backend: SandboxBackend,
) -> None:
    backend.configure(SITE, activation="after:0.4")
    create_user(backend, "gus", 5)
    backend.retry(SITE, ["fay"])
    assert states(backend)["user/gus"] == "pending"
    assert states(backend)["user/fay"] == "pending"
    time.sleep(0.5)
    assert states(backend)["user/gus"] == "activated"
    assert states(backend)["user/fay"] == "activated"
    assert states(backend)["user/anna"] == "pending"


def test_a_pending_object_may_still_be_failed_by_hand_before_its_time(
    backend: SandboxBackend,
) -> None:
    backend.configure(SITE, activation="after:0.2")
    create_user(backend, "gus", 5)
    backend.fail(SITE, ["gus"])
    time.sleep(0.3)
    assert states(backend)["user/gus"] == "failed"


@pytest.mark.parametrize("mode", ["manual", "immediate", "after:5", "after:0.25"])
def test_the_modes(mode: str) -> None:
    assert check_mode(mode) == mode


@pytest.mark.parametrize("mode", ["", "soon", "after:", "after:-1", "after:5s", "Immediate"])
def test_anything_else_is_refused_with_the_choices(mode: str) -> None:
    with pytest.raises(BackendError, match="use manual, immediate or after:SECONDS"):
        check_mode(mode)


def test_select_reports_each_name_that_is_not_in_the_state(backend: SandboxBackend) -> None:
    db: sqlite3.Connection = backend.db
    outcome = select(db, SITE, ["anna", "anna", "user/owner"], "pending")
    assert outcome.changed == ["user/anna"]  # named twice: once
    assert outcome.skipped == ["user/owner: it is activated, not pending"]
    assert select(db, SITE, None, "failed").changed == ["user/fay"]
