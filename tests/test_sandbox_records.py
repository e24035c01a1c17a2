"""Stored group settings that parse as JSON but are not what the sandbox wrote: one
clear error in `onenet plan` naming the file, the record and what is wrong (an object
without its keys; not an object at all)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.plan import Kind
from tests.sandbox_kit import SITE, act, group_values, user_in_state
from tests.test_sandbox_values import SITE_FILE


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ("{}", "hunt group berlin/sales: a stored value lacks 'policy'; correct that record"),
        ("[]", "hunt group berlin/sales: column settings holds [], not an object; correct"),
    ],
)
def test_settings_of_the_wrong_shape_are_a_clear_error(
    tmp_path: Path, onenet, monkeypatch: pytest.MonkeyPatch, settings: str, words: str
) -> None:
    path = tmp_path / "sandbox.db"
    backend = SandboxBackend(path)
    user_in_state(backend, "anna", 1, "activated")
    backend.execute(SITE, act(Kind.CREATE, "hunt_group", "sales", **group_values("hunt_group", 1)))
    backend.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE groups SET settings = ?", (settings,))
    (tmp_path / "site.yaml").write_text(SITE_FILE)
    monkeypatch.chdir(tmp_path)
    result = onenet("plan", "site.yaml", "--backend", f"sandbox:{path}")
    assert result.code == 1
    [line] = result.err.splitlines()
    assert line.startswith(f"Error: the sandbox {path} holds a record it cannot read: ")
    assert words in line
