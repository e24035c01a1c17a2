"""Sandbox rules hold for actions no planner would make, arriving by a direct call or
a hand-edited plan: each is refused naming its rule and changes nothing; a damaged
schema version is one clear error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from onenet_apply.model.plan import Kind
from tests.conftest import EXAMPLE
from tests.sandbox_kit import act, group_values, user_values
from tests.test_sandbox_rules import refused, site  # noqa: F401  (the fixture)


def test_a_new_user_cannot_start_deactivated(site) -> None:  # noqa: F811
    values = user_values(9, status="deactivated")
    error = refused(site, act(Kind.CREATE, "user", "ivy", **values), "lifecycle:create")
    assert error.detail == "a new user starts pending, not deactivated"


def test_a_call_centre_of_an_unknown_edition_is_refused(site) -> None:  # noqa: F811
    values = group_values("call_centre", 9, edition="premium")
    error = refused(site, act(Kind.CREATE, "call_centre", "help", **values), "catalogue")
    assert error.detail == "unknown call centre edition 'premium'"


def test_a_malformed_schema_version_is_one_clear_error(onenet, workdir: Path) -> None:
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    db = sqlite3.connect(workdir / ".onenet" / "sandbox.db")
    db.execute("UPDATE meta SET value = 'two' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    result = onenet("plan", str(EXAMPLE))
    assert result.code == 1
    assert result.err == (
        "Error: the sandbox .onenet/sandbox.db is damaged (malformed schema version 'two'): "
        "restore it from a backup, or remove it to start with an empty sandbox\n"
    )
