"""Builders for sandbox tests: actions and users in a chosen lifecycle state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from onenet_apply.backends.base import ActionResult
from onenet_apply.backends.sandbox import SandboxBackend, store
from onenet_apply.model.plan import Action, Kind, Target

SITE = "berlin"


def act(kind: Kind, target_type: str, target_id: str, **values: Any) -> Action:
    return Action.make(
        kind, Target(target_type, target_id), {k: (None, v) for k, v in values.items()}
    )


def deactivate(uid: str, transfer_to: str = "+493012345699", caller: str = "presses-key") -> Action:
    return act(
        Kind.DEACTIVATE,
        "user",
        uid,
        status="deactivated",
        deactivation={"transfer_to": transfer_to, "caller": caller},
    )


def user_values(n: int, **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        first_name=f"First{n}",
        last_name=f"Last{n}",
        username=f"user.{n}",
        number=f"+4930123456{n:02d}",
        extension=f"56{n:02d}",
        package="standard",
        options=["call-centre-standard"],
        services=["voicemail"],
        desk_phone="yealink-t54w",
        email=None,
        mobile=None,
    )
    values.update(over)
    return values


def create_user(backend: SandboxBackend, uid: str, n: int, **over: Any) -> ActionResult:
    return backend.execute(SITE, act(Kind.CREATE, "user", uid, **user_values(n, **over)))


def user_in_state(backend: SandboxBackend, uid: str, n: int, state: str, **over: Any) -> None:
    """Create a user and walk it to `state`: pending, activated, deactivated or failed."""
    create_user(backend, uid, n, **over)
    if state == "failed":
        backend.fail(SITE, [uid])
    elif state in ("activated", "deactivated"):
        backend.activate(SITE, [uid])
    if state == "deactivated":
        backend.execute(SITE, deactivate(uid, caller="hears-number"))


def three_users(database: Path) -> None:
    """A sandbox at `database` with site SITE: anna (activated, desk phone), carla
    (pending, desk phone) and dora (activated, no desk phone): one of each case a
    command on users meets."""
    backend = SandboxBackend(database)
    user_in_state(backend, "anna", 1, "activated")
    create_user(backend, "carla", 3)
    user_in_state(backend, "dora", 4, "activated", desk_phone="none")
    backend.close()


def group_values(group_type: str, n: int, **over: Any) -> dict[str, Any]:
    numbered = {"number": f"+4930123457{n:02d}", "extension": f"57{n:02d}"}
    values: dict[str, Any] = {
        "hunt_group": {"name": f"Hunt {n}", **numbered, "policy": "circular", "no_answer": None},
        "call_centre": {"name": f"Centre {n}", **numbered, "edition": "standard"},
        "call_pickup_group": {"name": f"Pickup {n}"},
        "call_park_group": {"name": f"Park {n}", "recall_timer": None},
    }[group_type]
    values.update(over)
    return values


def create_group(
    backend: SandboxBackend,
    group_type: str,
    gid: str,
    n: int,
    *,
    activate: bool = True,
    **over: Any,
) -> None:
    backend.execute(SITE, act(Kind.CREATE, group_type, gid, **group_values(group_type, n, **over)))
    if activate and group_type in ("hunt_group", "call_centre"):
        backend.activate(SITE, [f"{group_type}/{gid}"])


def sql_steps(backend: SandboxBackend, run: Callable[[], object]) -> int:
    """SQLite virtual machine steps `run` takes on the backend's connection: a measure
    of the work a statement does that no machine's speed moves."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    backend.db.set_progress_handler(count, 1)
    try:
        run()
    finally:
        backend.db.set_progress_handler(None, 1)
    return steps


@contextmanager
def at_schema(monkeypatch: pytest.MonkeyPatch, version: int) -> Iterator[None]:
    """Sandbox files made inside are made as the schema `version` build made them."""
    with monkeypatch.context() as old:
        old.setattr(store, "MIGRATIONS", store.MIGRATIONS[:version])
        old.setattr(store, "SCHEMA_VERSION", version)
        yield
