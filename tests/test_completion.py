"""Shell completion through click's mechanism (`_ONENET_COMPLETE=bash_complete`, as
the README's `eval` line sets up): site files for SITE_FILE and --site, site ids
from the sandbox, user ids with a desk phone for `credentials reset`; silent when
there is no sandbox, and never a remote backend contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tests.sandbox_kit import SITE, three_users


def complete(onenet, monkeypatch: pytest.MonkeyPatch, line: str) -> list[str]:
    """What bash would be offered for the last word of `line` (an empty last word
    when it ends in a space)."""
    words = line.split(" ")
    monkeypatch.setenv("_ONENET_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    result = onenet()
    assert result.code == 0 and not result.err, result.err
    return [item.partition(",")[2] for item in result.out.splitlines() if item]


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory with site files, another file, a folder, and a sandbox holding
    site berlin: anna (desk phone), carla (pending, desk phone), dora (no desk phone)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONENET_BACKEND", raising=False)
    (tmp_path / "berlin.yaml").write_text(EXAMPLE.read_text().replace("berlin-hq", SITE))
    (tmp_path / "bonn.yml").write_text("version: 1\nsite: {id: bonn}\n")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "hamburg.yaml").write_text("")
    three_users(tmp_path / ".onenet" / "sandbox.db")
    return tmp_path


def test_commands(onenet, place: Path, monkeypatch) -> None:
    assert complete(onenet, monkeypatch, "onenet cre") == ["credentials"]
    assert complete(onenet, monkeypatch, "onenet sandbox st") == ["status"]


@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_site_file_arguments_offer_site_files(onenet, place: Path, monkeypatch, command) -> None:
    assert complete(onenet, monkeypatch, f"onenet {command} ") == [
        "berlin.yaml",
        "bonn.yml",
        "sites/",
    ]
    assert complete(onenet, monkeypatch, f"onenet {command} sites/") == ["sites/hamburg.yaml"]


def test_site_offers_the_sandboxs_sites_then_site_files(onenet, place: Path, monkeypatch) -> None:
    offered = complete(onenet, monkeypatch, "onenet credentials reset --site ")
    assert offered == ["berlin", "berlin.yaml", "bonn.yml", "sites/"]
    assert complete(onenet, monkeypatch, "onenet sandbox status --site bo") == ["bonn.yml"]
    assert complete(onenet, monkeypatch, "onenet history --site be") == ["berlin", "berlin.yaml"]


def test_reset_offers_the_users_with_a_desk_phone(onenet, place: Path, monkeypatch) -> None:
    line = "onenet credentials reset --site berlin "
    assert complete(onenet, monkeypatch, line) == ["anna", "carla"]
    assert complete(onenet, monkeypatch, line + "anna ") == ["carla"]
    by_file = complete(onenet, monkeypatch, "onenet credentials reset --site berlin.yaml a")
    assert by_file == ["anna"]


def test_without_a_sandbox_the_site_file_gives_the_users(onenet, place: Path, monkeypatch) -> None:
    line = "onenet credentials reset --backend sandbox:none.db --site berlin.yaml "
    offered = complete(onenet, monkeypatch, line)
    assert offered[:3] == ["anna", "ben", "carla"] and "emil" not in offered  # emil: none
    assert not (place / "none.db").exists()  # completing never creates a sandbox


def test_completion_is_silent_without_a_sandbox_or_with_a_broken_one(
    onenet, place: Path, monkeypatch
) -> None:
    (place / "broken.db").write_text("not a database")
    for url in ("sandbox:none.db", "sandbox:broken.db", "ocips://bw.example.invalid/ent"):
        line = f"onenet sandbox status --backend {url} --site "
        assert complete(onenet, monkeypatch, line) == ["berlin.yaml", "bonn.yml", "sites/"]
        assert (
            complete(
                onenet, monkeypatch, f"onenet credentials reset --backend {url} --site berlin "
            )
            == []
        )
