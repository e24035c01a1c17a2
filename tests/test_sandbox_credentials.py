"""Login details: the portal's password rules, one-time hand-over, hashes only at rest."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onenet_apply.backends.base import RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model import passwords as passwords_module
from onenet_apply.model.passwords import generate_password, password_problems
from tests.sandbox_kit import SITE, create_user, user_in_state


@pytest.mark.parametrize(
    "password,problem",
    [
        ("Ab1!", "at least 8 characters"),
        ("abcdefgh", "mix at least two"),
        ("Abcd efgh1", "white space"),
        ("Abbb1234", "more than twice in a row"),
    ],
)
def test_password_rules(password: str, problem: str) -> None:
    assert any(problem in p for p in password_problems(password))


@pytest.mark.parametrize("password", ["abcdefg1", "ABCDEFG!", "Aa345678", "Sommer2026!x"])
def test_passwords_meeting_the_rules(password: str) -> None:
    assert password_problems(password) == []


def test_generated_passwords_meet_the_rules_and_differ() -> None:
    passwords = {generate_password() for _ in range(2000)}
    assert len(passwords) == 2000
    for password in passwords:
        assert password_problems(password) == []
        assert password[0].isalpha()  # never starts a spreadsheet formula


@given(st.text(max_size=20))
def test_rules_are_total(password: str) -> None:
    # any text gets a verdict, never an exception
    assert isinstance(password_problems(password), list)


def test_no_password_in_plain_text_in_the_database(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    backend = SandboxBackend(path)
    issued = []
    for n in range(1, 31):
        issued.append(create_user(backend, f"u{n}", n).credential.password)
    backend.activate(SITE)
    for n in range(1, 31, 3):
        issued.append(backend.reset_login(SITE, f"u{n}").password)
    issued.append(backend.set_password(SITE, "u2", "Chosen-Pass-42").password)
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    backend.close()
    stored += b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    for password in issued:
        assert password.encode() not in stored
        assert password.encode("utf-16-le") not in stored


def test_reset_replaces_the_password(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    user_in_state(backend, "anna", 1, "activated")
    first = backend.reset_login(SITE, "anna")
    second = backend.reset_login(SITE, "anna")
    assert (first.event, second.event) == ("reset", "reset")
    assert second.login_username == first.login_username == "user.1.5601"
    assert not backend.verify_login(SITE, "anna", first.password)
    assert backend.verify_login(SITE, "anna", second.password)


def test_set_password_checks_the_rules_and_uses_a_slow_hash(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    user_in_state(backend, "anna", 1, "activated")
    with pytest.raises(RefusedError) as caught:
        backend.set_password(SITE, "anna", "short")
    assert caught.value.rule == "password-rules"
    credential = backend.set_password(SITE, "anna", "Chosen-Pass-42")
    assert credential.event == "set"
    stored = backend.db.execute("SELECT secret_hash FROM users WHERE id = 'anna'").fetchone()[0]
    assert stored.startswith("scrypt$")
    assert backend.verify_login(SITE, "anna", "Chosen-Pass-42")


def test_credential_repr_hides_the_password(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    credential = create_user(backend, "anna", 1).credential
    assert credential.password not in repr(credential)
    assert credential.password not in str(credential)


def test_journal_records_every_action_and_no_secret(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    password = create_user(backend, "anna", 1).credential.password
    with pytest.raises(RefusedError):
        backend.reset_login(SITE, "anna")  # pending
    backend.activate(SITE)
    reset = backend.reset_login(SITE, "anna").password
    entries = backend.journal(SITE)
    assert [(e.action_id, e.outcome) for e in entries] == [
        ("user/anna/create", "ok"),
        ("user/anna/reset-login", "refused"),
        ("user/anna/carrier", "ok"),
        ("user/anna/reset-login", "ok"),
    ]
    text = repr(entries)
    assert password not in text and reset not in text
    assert backend.journal(SITE, limit=1) == entries[-1:]


def test_activation_modes(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    backend.configure(SITE, activation="immediate")
    create_user(backend, "anna", 1)
    assert backend.read_state(SITE).users["anna"].lifecycle == "activated"
    backend.configure(SITE, activation="after:0.3")
    create_user(backend, "ben", 2)
    assert backend.read_state(SITE).users["ben"].lifecycle == "pending"
    time.sleep(0.35)
    assert backend.read_state(SITE).users["ben"].lifecycle == "activated"
    backend.configure(SITE, activation="manual")
    create_user(backend, "carla", 3)
    time.sleep(0.05)
    assert backend.read_state(SITE).users["carla"].lifecycle == "pending"


def test_credentials_are_recorded_before_the_platform_commits(tmp_path: Path) -> None:
    """The write-ahead hook: when `record` runs, no other reader sees the user yet;
    when it fails, nothing is committed. So a CSV written there can never miss a
    credential the platform holds."""
    from onenet_apply.model.plan import Kind
    from tests.sandbox_kit import act, user_values

    backend = SandboxBackend(tmp_path / "sandbox.db")
    other = SandboxBackend(tmp_path / "sandbox.db")  # another process's view
    seen: list[tuple[str, bool]] = []

    def record(credentials) -> None:
        users = other.read_state(SITE).users
        seen.extend((c.user_id, c.user_id in users) for c in credentials)

    backend.execute(SITE, act(Kind.CREATE, "user", "anna", **user_values(1)), record)
    assert seen == [("anna", False)]
    assert "anna" in other.read_state(SITE).users

    def broken_disk(credentials) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        backend.execute(SITE, act(Kind.CREATE, "user", "ben", **user_values(2)), broken_disk)
    assert "ben" not in backend.read_state(SITE).users  # nothing committed
    backend.activate(SITE)
    with pytest.raises(OSError):
        backend.reset_login(SITE, "anna", broken_disk)
    recorded = []
    reset = backend.reset_login(SITE, "anna", recorded.extend)
    assert recorded == [reset] and backend.verify_login(SITE, "anna", reset.password)


class Ledger:
    """A recorder that keeps what it was given and what was taken back."""

    def __init__(self) -> None:
        self.recorded: list = []
        self.retracted: list = []

    def __call__(self, credentials) -> None:
        self.recorded.append(list(credentials))

    def retract(self, credentials) -> None:
        self.retracted.append(list(credentials))


def test_a_batch_rolled_back_after_recording_is_retracted(tmp_path: Path) -> None:
    """Recorded, then the commit fails: the recorder hears of it, so it can tell the
    rows of passwords that never took effect from the real ones."""
    from onenet_apply.backends.base import TransientError
    from onenet_apply.backends.sandbox.faults import Faults
    from onenet_apply.model.plan import Kind
    from tests.sandbox_kit import act, user_values

    backend = SandboxBackend(tmp_path / "sandbox.db", faults=Faults(nth=2, mode="rollback"))
    ledger = Ledger()
    batch = [act(Kind.CREATE, "user", u, **user_values(n)) for n, u in enumerate("abc", 1)]
    with pytest.raises(TransientError, match="the commit failed; the batch was rolled back"):
        backend.execute_batch(SITE, batch, ledger)
    assert [[c.user_id for c in b] for b in ledger.recorded] == [["a", "b"]]
    assert ledger.retracted == ledger.recorded
    assert backend.read_state(SITE).users == {}
    outcome = backend.execute_batch(SITE, batch, ledger)  # the fault struck once
    assert outcome.error is None and ledger.retracted == ledger.recorded[:1]
    assert sorted(backend.read_state(SITE).users) == ["a", "b", "c"]


def test_a_failed_commit_is_rolled_back_and_reported(tmp_path: Path) -> None:
    """SQLite may leave a transaction open after a failed COMMIT (here: a deferred
    constraint): it is rolled back, and `on_rollback` runs, exactly as for an error
    before the commit."""
    import sqlite3

    from onenet_apply.backends.sandbox.store import transaction

    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TABLE child (parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
    )
    rolled_back: list[bool] = []
    with pytest.raises(sqlite3.IntegrityError), transaction(db, lambda: rolled_back.append(True)):
        db.execute("INSERT INTO child VALUES (7)")  # fails only at COMMIT
    assert rolled_back == [True] and not db.in_transaction
    assert db.execute("SELECT COUNT(*) FROM child").fetchone() == (0,)
    with transaction(db, lambda: rolled_back.append(False)):
        db.execute("INSERT INTO parent VALUES (7)")
    assert rolled_back == [True]


def test_a_generated_password_nearly_always_takes_one_random_draw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Several candidates come from one draw, each from bytes of its own: a system
    call per password, not one per candidate (four in ten miss a rule)."""
    import os

    draws: list[bytes] = []
    real = os.urandom

    def counted(n: int) -> bytes:
        draws.append(real(n))
        return draws[-1]

    monkeypatch.setattr(os, "urandom", counted)
    passwords = [generate_password() for _ in range(500)]
    assert len(draws) < 510
    assert len(set(passwords)) == 500 and all(password_problems(p) == [] for p in passwords)
    # each is one window of its draw's characters, at a multiple of its length: fresh
    # bytes for every candidate, never spliced from two
    windows = set()
    for draw in draws:
        text = draw.translate(None, passwords_module._UNUSABLE)
        text = text.translate(passwords_module._TO_ALPHABET).decode("ascii")
        windows.update(text[i : i + 16] for i in range(0, len(text) - 15, 16))
    assert set(passwords) <= windows
