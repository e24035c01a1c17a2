"""backends/sandbox/seed.py: a validated site loaded whole, as if long in place.

A seeded site reads back as its spec, every object activated (deactivated users
deactivated), desk phones with login details issued (their passwords thrown away:
a reset issues usable ones), and the consistency checker finds nothing: benchmarks
and fixtures start from a site that `onenet apply` could have built. The load is
one transaction.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from onenet_apply.backends.base import RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.plan import Kind
from onenet_apply.model.spec import NO_DESK_PHONE, SiteSpec
from onenet_apply.model.vocabulary import ALL_ROLES, SECTION_OF
from onenet_apply.planning.planner import plan
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE, scaled
from tests.planner_strategies import sites
from tests.sandbox_kit import act


def example() -> SiteSpec:
    spec = validate_file(str(EXAMPLE)).spec
    assert spec is not None
    return spec


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SandboxBackend]:
    backend = SandboxBackend(tmp_path / "sandbox.db")
    yield backend
    backend.close()


def check_seeded(backend: SandboxBackend, spec: SiteSpec) -> None:
    """The stored site is the spec, settled, with login details where desk phones are."""
    site = spec.site.id
    assert backend.check_consistency(site) == []
    state = backend.read_state(site)
    assert state.exists
    for target_type, section in SECTION_OF.items():
        stored, wanted = getattr(state, section), getattr(spec, section)
        assert list(stored) == sorted(wanted), section  # nothing more, nothing less
        for ident, item in wanted.items():
            assert stored[ident].item == item, f"{target_type}/{ident}"
            settled = "deactivated" if getattr(item, "status", "") == "deactivated" else "activated"
            assert stored[ident].lifecycle == settled, f"{target_type}/{ident}"
    listed = sum(
        len(getattr(group, role))
        for group_type, group_section in SECTION_OF.items()
        if group_type != "user"
        for group in getattr(spec, group_section).values()
        for role in ALL_ROLES
        if hasattr(group, role)
    )
    stored_rows = backend.db.execute("SELECT COUNT(*) FROM members WHERE site = ?", (site,))
    assert stored_rows.fetchone()[0] == listed  # one row per listed member, no more
    logins = {
        row[0]: (row[1], row[2], row[3])
        for row in backend.db.execute(
            "SELECT id, login_username, secret_hash, login_issued_at FROM users WHERE site = ?",
            (site,),
        )
    }
    for uid, user in spec.users.items():
        login, secret, issued = logins[uid]
        if user.desk_phone == NO_DESK_PHONE:
            assert (login, secret, issued) == (None, None, None), uid
        else:
            assert login == f"{user.username}.{user.extension}", uid
            assert secret and issued, uid


def test_a_seeded_site_reads_back_as_its_spec(backend: SandboxBackend) -> None:
    spec = example()
    backend.seed(spec)
    check_seeded(backend, spec)


def test_seed_loads_a_site_that_plans_to_nothing(tmp_path: Path) -> None:
    spec = example()
    backend = SandboxBackend(tmp_path / "sandbox.db")
    backend.seed(spec)
    assert backend.check_consistency(spec.site.id) == []
    state = backend.read_state(spec.site.id)
    assert state.users["karl"].lifecycle == "deactivated"
    assert plan(spec, state, catalogue=default_catalogue()).empty


@settings(max_examples=scaled(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites())
def test_any_valid_site_seeds_and_reads_back_as_its_spec(spec: SiteSpec) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = SandboxBackend(Path(tmp) / "sandbox.db")
        try:
            backend.seed(spec)
            check_seeded(backend, spec)
        finally:
            backend.close()


def test_seeded_passwords_are_thrown_away_and_a_reset_issues_usable_ones(
    backend: SandboxBackend,
) -> None:
    spec = example()
    backend.seed(spec)
    site = spec.site.id
    before = backend.db.execute(
        "SELECT secret_hash FROM users WHERE site = ? AND id = 'anna'", (site,)
    ).fetchone()[0]
    credential = backend.reset_login(site, "anna")
    assert credential.login_username == "anna.schmidt.5601"
    assert backend.verify_login(site, "anna", credential.password)
    after = backend.db.execute(
        "SELECT secret_hash FROM users WHERE site = ? AND id = 'anna'", (site,)
    ).fetchone()[0]
    assert after != before


def test_a_seeded_site_takes_actions_like_any_other(backend: SandboxBackend) -> None:
    """Numbers, extensions and member lists are held as the rules hold them: a number
    of the seeded site is refused to a newcomer, a freed one is not."""
    spec = example()
    backend.seed(spec)
    site = spec.site.id
    anna = spec.users["anna"]
    newcomer = dict(
        first_name="Neu",
        last_name="X",
        username="neu",
        number=anna.number,
        extension="5690",
        package="standard",
        options=[],
        services=[],
        desk_phone="none",
        email=None,
        mobile=None,
    )
    with pytest.raises(RefusedError, match=r"\[number-unique\]"):
        backend.execute(site, act(Kind.CREATE, "user", "neu", **newcomer))
    backend.execute(
        site, act(Kind.CREATE, "user", "neu", **{**newcomer, "number": "+493012345690"})
    )
    assert backend.check_consistency(site) == []


def test_the_load_is_one_transaction(backend: SandboxBackend) -> None:
    """A load that fails part way (a group is already there) leaves nothing behind."""
    spec = example()
    site = spec.site.id
    other = SandboxBackend(backend.path.with_name("other.db"))
    try:
        other.db.execute(
            "INSERT INTO sites (id, created_at) VALUES (?, '2026-01-01T00:00:00Z')", (site,)
        )
        other.db.execute(
            "INSERT INTO groups (site, type, id, lifecycle, name, number, extension, settings)"
            " VALUES (?, 'hunt_group', 'sales', 'activated', 'Old', NULL, NULL, '{}')",
            (site,),
        )
        with pytest.raises(sqlite3.IntegrityError):
            other.seed(spec)
        assert other.db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
        assert other.db.execute("SELECT COUNT(*) FROM numbers").fetchone()[0] == 0
    finally:
        other.close()
