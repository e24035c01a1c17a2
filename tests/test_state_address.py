"""The shared store's address, who is applying, and lock keys: no password from the
command line and none shown; the CI run named from each CI's variables; keys that
keep schemas and sites apart; `--since` read as a time or an age. No PostgreSQL
needed."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest

from onenet_apply.cli.option_types import SINCE
from onenet_apply.store.actor import Actor, ci_run, current_actor, git_source
from onenet_apply.store.address import redact, state_address
from onenet_apply.store.errors import StoreError
from onenet_apply.store.keys import advisory_key

SECRET = "Pa55-word!never-shown"


@pytest.fixture(autouse=True)
def _no_state_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONENET_STATE", raising=False)


def test_no_option_and_no_variable_means_no_store() -> None:
    assert state_address(None) is None
    assert state_address("") is None


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://team:{SECRET}@db.example/onenet",
        f"postgresql://db.example/onenet?password={SECRET}",
        f"postgres://team@db.example/onenet?sslmode=require&PASSWORD={SECRET}",
    ],
)
def test_a_password_on_the_command_line_is_refused_without_showing_it(url: str) -> None:
    with pytest.raises(StoreError) as refused:
        state_address(url)
    message = str(refused.value)
    assert "PGPASSWORD" in message and "ONENET_STATE" in message
    assert SECRET not in message


def test_the_environment_may_hold_a_password_and_it_is_shown_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONENET_STATE", f"postgresql://team:{SECRET}@db.example:5433/onenet")
    address = state_address(None)
    assert address is not None and address.origin == "$ONENET_STATE"
    assert SECRET in address.url  # libpq gets it
    assert address.redacted() == "postgresql://team:***@db.example:5433/onenet"


def test_the_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONENET_STATE", "postgresql://env.example/a")
    address = state_address("postgresql://option.example/b")
    assert address is not None and address.url == "postgresql://option.example/b"
    assert address.origin == "--state"


@pytest.mark.parametrize("url", ["mysql://db/x", "db.example/onenet", "sandbox:x.db"])
def test_a_url_that_is_not_postgresqls_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match="not a PostgreSQL URL"):
        state_address(url)


def test_redact_hides_every_password_and_keeps_the_rest() -> None:
    assert redact("postgresql://u@h/d?sslmode=require") == "postgresql://u@h/d?sslmode=require"
    shown = redact(f"postgresql://u:{SECRET}@h/d?password={SECRET}&sslmode=require")
    assert SECRET not in shown and shown.startswith("postgresql://u:***@h/d?password=***")
    assert redact("postgresql://[::1") == "(an unreadable URL)"


def test_the_ci_run_is_a_link_where_the_ci_gives_one() -> None:
    github = {
        "GITHUB_RUN_ID": "42",
        "GITHUB_REPOSITORY": "acme/sites",
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_TOKEN": SECRET,
    }
    assert ci_run(github) == "https://github.example/acme/sites/actions/runs/42/attempts/2"
    assert ci_run({"CI_JOB_URL": "https://gitlab.example/j/7", "CI_JOB_TOKEN": SECRET}) == (
        "https://gitlab.example/j/7"
    )
    assert ci_run({"BUILD_URL": "https://jenkins.example/b/9"}) == "https://jenkins.example/b/9"
    assert ci_run({"ONENET_CI_RUN": "nightly-17"}) == "nightly-17"
    assert ci_run({}) == ""


def test_the_actor_names_itself_and_fits_application_name() -> None:
    actor = current_actor("onenet apply")
    assert actor.command == "onenet apply" and actor.pid > 0 and actor.host
    long = Actor("u", "h" * 80, 7, "onenet apply")
    assert len(long.application_name("berlin-hq").encode()) <= 63
    assert long.application_name("berlin-hq").startswith("onenet apply berlin-hq pid 7@")
    assert Actor("u", "h", 7, "onenet apply", "https://ci/1").describe() == (
        "u@h pid 7 (onenet apply, CI run https://ci/1)"
    )


def test_git_source_names_the_file_as_its_repository_does(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("x")
    assert git_source(outside) == (str(outside), "")
    repo = tmp_path / "repo"
    (repo / "sites").mkdir(parents=True)
    site = repo / "sites" / "berlin.yaml"
    site.write_text("a")
    git = ["git", "-C", str(repo), "-c", "user.email=a@b", "-c", "user.name=n"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert git_source(site) == ("sites/berlin.yaml", head.strip())
    site.write_text("b")
    assert git_source(site) == ("sites/berlin.yaml", head.strip() + "+changes")


def test_lock_keys_keep_schemas_and_sites_apart() -> None:
    key = advisory_key("public", "sandbox:/a.db#berlin")
    assert key == advisory_key("public", "sandbox:/a.db#berlin")
    assert key != advisory_key("team_b", "sandbox:/a.db#berlin")
    assert key != advisory_key("public", "sandbox:/a.db#munich")
    assert advisory_key("pub", "lic\0x") != advisory_key("pub\0lic", "x")
    keys = {advisory_key("s", f"site-{n}") for n in range(10_000)}
    assert len(keys) == 10_000 and all(-(2**63) <= k < 2**63 for k in keys)


def test_since_reads_a_time_a_date_or_an_age() -> None:
    now = datetime.now(UTC)
    assert SINCE.convert("2026-11-01", None, None) == datetime(2026, 11, 1, tzinfo=UTC)
    assert SINCE.convert("2026-11-01T09:30Z", None, None) == datetime(
        2026, 11, 1, 9, 30, tzinfo=UTC
    )
    zoned = SINCE.convert("2026-11-01T09:30+01:00", None, None)
    assert zoned == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    for age, delta in (("90s", 90), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("2W", 1209600)):
        moment = SINCE.convert(age, None, None)
        assert abs((now - moment) - timedelta(seconds=delta)) < timedelta(seconds=5)
    for bad in ("yesterday", "7x", "", "99999999999999999999d"):
        with pytest.raises(click.BadParameter):
            SINCE.convert(bad, None, None)
