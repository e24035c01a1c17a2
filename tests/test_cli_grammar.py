"""One command line grammar: `-y/--yes` wherever `--yes` is, `credentials reset --all`
asked like an apply, a reset that could do nothing fails saying why, and a site file
taken wherever a site id is asked for."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from onenet_apply.apply.credentials import read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from tests.sandbox_kit import SITE, three_users, user_in_state


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sandbox with anna (activated, desk phone), carla (pending) and dora (activated,
    no desk phone) on site `berlin`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONENET_BACKEND", raising=False)
    three_users(tmp_path / ".onenet" / "sandbox.db")
    return tmp_path


class Terminal(io.StringIO):
    """Standard input typed at a terminal."""

    def isatty(self) -> bool:
        return True


def on_terminal(monkeypatch: pytest.MonkeyPatch, typed: str) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal(typed))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)


def csv_files(where: Path) -> list[Path]:
    return sorted(where.glob("onenet-credentials-*.csv"))


def test_reset_all_without_a_terminal_needs_yes(onenet, site_dir: Path) -> None:
    refused = onenet("credentials", "reset", "--site", SITE, "--all")
    assert refused.code == 1
    assert refused.err == (
        "Error: credentials reset --all asks for confirmation on a terminal; "
        "without one, add --yes\n"
    )
    assert not csv_files(site_dir)
    done = onenet("credentials", "reset", "--site", SITE, "--all", "-y")
    assert done.code == 0, done.err
    [csv_file] = csv_files(site_dir)
    assert [r["user_id"] for r in read_rows(csv_file)] == ["anna"]


def test_reset_all_asks_on_a_terminal(
    onenet, site_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_terminal(monkeypatch, "n\n")
    declined = onenet("credentials", "reset", "--site", SITE, "--all")
    assert declined.code == 1
    assert "Issue new login details to every user with a desk phone on site berlin?" in (
        declined.err
    )
    assert declined.err.endswith("Error: no login details issued\n")
    assert not csv_files(site_dir)
    on_terminal(monkeypatch, "y\n")
    accepted = onenet("credentials", "reset", "--site", SITE, "--all")
    assert accepted.code == 0, accepted.err
    assert len(csv_files(site_dir)) == 1


def test_reset_of_named_users_is_not_asked(onenet, site_dir: Path) -> None:
    result = onenet("credentials", "reset", "--site", SITE, "anna")
    assert result.code == 0, result.err
    assert "issued new login details to 1 user" in result.out


def test_reset_that_could_do_nothing_says_why_and_fails(onenet, site_dir: Path) -> None:
    result = onenet("credentials", "reset", "--site", SITE, "dora")
    assert result.code == 1
    assert result.err == "Error: no login details issued: dora (has no desk phone)\n"
    assert not csv_files(site_dir)
    both = onenet("credentials", "reset", "--site", SITE, "dora", "carla")
    assert both.code == 1
    assert both.err.count("\n") == 1
    assert "dora (has no desk phone); carla (is pending" in both.err


def test_reset_all_with_no_one_to_reset_fails(onenet, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    backend = SandboxBackend(tmp_path / "s.db")
    user_in_state(backend, "dora", 4, "activated", desk_phone="none")
    backend.close()
    result = onenet(
        "credentials", "reset", "--site", SITE, "--all", "--yes", "--backend", "sandbox:s.db"
    )
    assert result.code == 1
    assert result.err == "Error: no login details issued: no user of site berlin has a desk phone\n"


def test_reset_that_did_some_still_succeeds(onenet, site_dir: Path) -> None:
    result = onenet("credentials", "reset", "--site", SITE, "anna", "dora")
    assert result.code == 0
    assert "skipped dora: has no desk phone" in result.err


def test_short_yes_on_apply(onenet, workdir: Path) -> None:
    from tests.conftest import EXAMPLE

    result = onenet("apply", str(EXAMPLE), "-y")
    assert result.code == 3, result.err
    assert "Apply: 19 applied" in result.out


def test_every_yes_has_its_short_form() -> None:
    from tests.cli_tree import all_commands

    with_yes = [
        (path, p)
        for path, command in all_commands()
        for p in command.params
        if "--yes" in getattr(p, "opts", ())
    ]
    assert {" ".join(path) for path, _ in with_yes} >= {"apply", "credentials reset"}
    for path, param in with_yes:
        assert "-y" in param.opts, f"onenet {' '.join(path)}: --yes without -y"


# -- a site file wherever a site id is asked for -------------------------------------


def site_file(where: Path, text: str = "") -> Path:
    path = where / "berlin.yaml"
    path.write_text(text or "version: 1\nsite:\n  id: berlin\n  name: Berlin\n  country: DE\n")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("sandbox", "status"),
        ("history",),
        ("credentials", "reset", "anna"),
        ("import",),
        ("unlock",),
        ("sandbox", "unlock"),
        ("sandbox", "activate", "--all"),
        ("sandbox", "configure", "--activation", "immediate"),
    ],
    ids=" ".join,
)
def test_a_site_file_names_its_site(onenet, site_dir: Path, command: tuple[str, ...]) -> None:
    by_file = onenet(*command, "--site", str(site_file(site_dir)))
    by_id = onenet(*command, "--site", SITE)
    assert by_file.code == by_id.code
    assert by_file.code in (0, 1)
    if "reset" in command:  # the same, but new login details each time
        assert "issued new login details to 1 user" in by_file.out
        return
    if "activate" in command:  # the file's run activated carla: nothing was left
        assert (by_file.out, by_id.err) == ("user/carla: activated\n", "nothing is pending\n")
        return
    assert "Error" not in by_file.err, by_file.err
    assert by_file.out.replace(str(site_dir / "berlin.yaml"), "berlin") == by_id.out


def test_every_site_option_takes_a_site_file() -> None:
    from onenet_apply.cli.site_ref import SiteRef
    from tests.cli_tree import all_commands

    sites = [
        (path, p)
        for path, c in all_commands()
        for p in c.params
        if "--site" in getattr(p, "opts", ())
    ]
    assert len(sites) >= 10
    for path, param in sites:
        assert isinstance(param.type, SiteRef), f"onenet {' '.join(path)} --site"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("version: 1\nsite:\n  id: [berlin\n", "berlin.yaml:4:1: YAML syntax error"),
        ("version: 1\nsite:\n  name: Berlin\n", "berlin.yaml:3:3: site.id is missing"),
        ("version: 1\nsite:\n  id: 'a b'\n", "berlin.yaml:3:7: site.id must start with a letter"),
    ],
    ids=["syntax", "no-id", "bad-id"],
)
def test_a_broken_site_file_is_one_line_and_changes_nothing(
    onenet, site_dir: Path, text: str, said: str
) -> None:
    path = site_file(site_dir, text)
    result = onenet("credentials", "reset", "--site", str(path), "anna")
    assert result.code == 1
    assert result.err.startswith(f"Error: {site_dir / said}"), result.err
    assert result.err.count("\n") == 1
    assert not csv_files(site_dir)


def test_a_missing_site_file_is_named(onenet, site_dir: Path) -> None:
    result = onenet("sandbox", "status", "--site", "sites/berlin.yaml")
    assert result.code == 1
    assert result.err == "Error: sites/berlin.yaml: no such site file\n"


def test_a_site_file_gives_its_platform_id_unless_one_is_given(
    onenet, site_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onenet_apply.backends import base

    addressed: list[tuple[str, str | None]] = []
    monkeypatch.setattr(base, "address_site", lambda _, s, p: addressed.append((s, p)))
    path = site_file(
        site_dir, "version: 1\nsite:\n  id: berlin\n  platform_id: BER-HQ-01\n  name: B\n"
    )
    assert onenet("import", "--site", str(path)).code == 0
    assert onenet("import", "--site", str(path), "--platform-id", "OTHER").code == 0
    assert onenet("import", "--site", SITE).code == 0
    assert addressed == [(SITE, "BER-HQ-01"), (SITE, "OTHER"), (SITE, None)]
