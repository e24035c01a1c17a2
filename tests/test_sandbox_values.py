"""The sandbox enforces the platform's rules on values by itself.

Whatever path an action takes (a hand-edited saved plan, a direct Backend call),
the sandbox refuses what the portal would refuse, naming the rule, and changes
nothing. A stored record that cannot be read back is one clear error naming the
file and the record, never a traceback.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from onenet_apply.backends.base import BackendError, RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Kind
from tests.sandbox_kit import SITE, act, group_values, user_in_state, user_values


@pytest.fixture
def site(tmp_path: Path) -> SandboxBackend:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    user_in_state(backend, "anna", 1, "activated")
    yield backend
    assert backend.check_consistency(SITE) == []
    backend.close()


def refused(site: SandboxBackend, action: Any, rule: str) -> str:
    before = site.read_state(SITE)
    with pytest.raises(RefusedError) as caught:
        site.execute(SITE, action)
    assert caught.value.rule == rule
    assert site.read_state(SITE) == before
    return caught.value.detail


DECOMPOSED_E = "e\u0301"
SITE_FILE = f"""version: 1
site: {{id: {SITE}, name: Berlin, country: DE}}
users:
  anna: {{first_name: Anna, last_name: Schmidt, number: "030 12345601", package: standard}}
"""


@pytest.mark.parametrize(
    ("over", "rule", "words"),
    [
        ({"first_name": "A" * 24}, "value:first_name", "24 characters long; at most 23"),
        ({"last_name": "L" * 31}, "value:last_name", "at most 30"),
        (
            {"first_name": "Ann\u200ba"},
            "value:first_name",
            "U+200B ZERO WIDTH SPACE at character 4",
        ),
        ({"last_name": "Meyer\n"}, "value:last_name", "U+000A"),
        ({"last_name": " Meyer"}, "value:last_name", "starts with white space"),
        *[
            ({"username": name}, "value:username", "must not contain + - & @")
            for name in ("anna+1", "anna&1", "anna@1", "anna-1", "anna 1", "anna\t1", "=anna")
        ],
        ({"username": "anna\n"}, "value:username", "must not contain"),
        ({"username": "an\u202ena"}, "value:username", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ({"number": "030 12345609"}, "value:number", "not a number in E.164 form"),
        ({"number": "+493012345609\n"}, "value:number", "phone number"),
        ({"extension": "56a9"}, "value:extension", "2 to 6 digits"),
        ({"extension": "5609\n"}, "value:extension", "2 to 6 digits"),
        ({"extension": "1234567"}, "value:extension", "2 to 6 digits"),
        ({"mobile": {"number": "0170 1234567", "contract": "C1"}}, "value:mobile", "E.164"),
    ],
)
def test_a_create_breaking_a_value_rule_is_refused(
    site: SandboxBackend, over: dict[str, Any], rule: str, words: str
) -> None:
    action = act(Kind.CREATE, "user", "ben", **user_values(9, **over))
    assert words in refused(site, action, rule)


def test_an_id_that_is_not_an_id_is_refused(site: SandboxBackend) -> None:
    action = act(Kind.CREATE, "user", "ben\n", **user_values(9))
    refused(site, action, "value:id")
    group = act(Kind.CREATE, "call_pickup_group", "floor 1", **group_values("call_pickup_group", 1))
    refused(site, group, "value:id")


def test_names_at_their_longest_are_accepted(site: SandboxBackend) -> None:
    values = user_values(9, first_name="A" * 23, last_name="L" * 30)
    site.execute(SITE, act(Kind.CREATE, "user", "ben", **values))
    ben = site.read_state(SITE).users["ben"].item
    assert (ben.first_name, ben.last_name) == ("A" * 23, "L" * 30)


def test_names_count_characters_in_nfc(site: SandboxBackend) -> None:
    name = "R" + DECOMPOSED_E * 22  # 45 code points, 23 characters
    site.execute(SITE, act(Kind.CREATE, "user", "ben", **user_values(9, first_name=name)))
    assert site.read_state(SITE).users["ben"].item.first_name == name


def test_updates_and_groups_are_checked_too(site: SandboxBackend) -> None:
    refused(site, act(Kind.UPDATE_PROFILE, "user", "anna", first_name="x" * 24), "value:first_name")
    refused(site, act(Kind.UPDATE_CONFIG, "user", "anna", username="a@b"), "value:username")
    refused(site, act(Kind.UPDATE_CONFIG, "user", "anna", extension="5"), "value:extension")
    deactivate = act(
        Kind.DEACTIVATE,
        "user",
        "anna",
        status="deactivated",
        deactivation={"transfer_to": "0301234", "caller": "presses-key"},
    )
    refused(site, deactivate, "value:deactivation")
    long_name = group_values("hunt_group", 1, name="H" * 31)
    refused(site, act(Kind.CREATE, "hunt_group", "sales", **long_name), "value:name")
    forward = group_values(
        "hunt_group", 1, no_answer={"rings": 3, "forward_to": "030 1", "timeout": None}
    )
    refused(site, act(Kind.CREATE, "hunt_group", "sales", **forward), "value:no_answer")
    site.execute(
        SITE, act(Kind.CREATE, "call_park_group", "park", **group_values("call_park_group", 1))
    )
    refused(site, act(Kind.UPDATE, "call_park_group", "park", name="P\u2028"), "value:name")
    refused(site, act(Kind.UPDATE, "call_park_group", "park", recall_timer=5), "value:recall_timer")


def test_a_hand_edited_saved_plan_cannot_store_a_refused_value(
    tmp_path: Path, onenet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ONENET_BACKEND", f"sandbox:{tmp_path / 'sandbox.db'}")
    SandboxBackend(tmp_path / "sandbox.db").close()
    site_file = tmp_path / "site.yaml"
    site_file.write_text(SITE_FILE)
    assert onenet("plan", str(site_file), "--out", "plan.json").code == 0
    plan = json.loads((tmp_path / "plan.json").read_text())
    for action in plan["actions"]:
        for change in action["changes"]:
            if change["field"] == "first_name":
                change["after"] = "A" * 40
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    result = onenet("apply", "plan.json", "--yes")
    # the plan's digest catches the edit first; the sandbox's own rules
    # (the tests above) would refuse the value should it get past
    assert result.code == 1 and result.err.count("\n") == 1
    assert "the plan was changed after it was made" in result.err
    with sqlite3.connect(tmp_path / "sandbox.db") as db:
        assert db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


# -- records that cannot be read back ---------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "value", "words"),
    [
        ("users", "options", "[not json", "user berlin/anna: column options holds bad JSON"),
        ("users", "mobile", '{"number": 1}', "user berlin/anna: column mobile holds"),
        ("users", "services", '"voicemail"', "column services holds bad JSON ('\"voicemail\"' is"),
        ("users", "lifecycle", "zombie", "column lifecycle holds 'zombie', not one of"),
        ("groups", "settings", "{{", "hunt group berlin/sales: column settings holds bad JSON"),
        ("groups", "lifecycle", "gone", "hunt group berlin/sales: column lifecycle holds 'gone'"),
        ("groups", "settings", "{}", "hunt group berlin/sales: a stored value lacks 'policy'"),
        ("groups", "settings", "[]", "hunt group berlin/sales: column settings holds [], not an"),
    ],
)
def test_a_record_that_cannot_be_read_is_a_clear_error_in_import_and_plan(
    tmp_path: Path,
    onenet,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    column: str,
    value: str,
    words: str,
) -> None:
    path = tmp_path / "sandbox.db"
    backend = SandboxBackend(path)
    user_in_state(backend, "anna", 1, "activated")
    backend.execute(SITE, act(Kind.CREATE, "hunt_group", "sales", **group_values("hunt_group", 1)))
    backend.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA ignore_check_constraints = ON")  # as a damaged file may hold
        db.execute(f"UPDATE {table} SET {column} = ?", (value,))
    monkeypatch.setenv("ONENET_BACKEND", f"sandbox:{path}")
    monkeypatch.chdir(tmp_path)
    site_file = tmp_path / "site.yaml"
    site_file.write_text(SITE_FILE)
    for args in (("import", "--site", SITE), ("plan", str(site_file))):
        result = onenet(*args)
        assert result.code == 1, args
        assert "Traceback" not in result.err
        assert f"the sandbox {path} holds a record it cannot read: " in result.err
        assert words in result.err
        assert len(result.err.strip().splitlines()) == 1


def test_backend_error_is_what_read_state_raises(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    backend = SandboxBackend(path)
    user_in_state(backend, "anna", 1, "activated")
    backend.db.execute("UPDATE users SET services = 'null'")
    backend.db.commit()
    with pytest.raises(BackendError, match="column services"):
        backend.read_state(SITE)
