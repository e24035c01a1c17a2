"""Positions are read only when a problem needs them (see problems.NeedsPositions).

A site file is first read without the line and column of each value; a valid file
is never read again, a file with a problem (or a warning) is read once more with
positions, from the same bytes, and reports exactly what it would have."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.sitefile import loader as loader_module
from onenet_apply.sitefile import validate as validate_module
from onenet_apply.sitefile.loader import load_site_file
from onenet_apply.sitefile.problems import NeedsPositions
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE, FIXTURES

VALID_USER = 'anna: {first_name: Anna, last_name: S, number: "030 12345601", package: standard}\n'


def spy_loads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The `positions` of every load_site_file call validate makes."""
    calls: list[bool] = []
    real = validate_module.load_site_file

    def spy(path: str, *, positions: bool = True, reads: object = None) -> object:
        calls.append(positions)
        return real(path, positions=positions, reads=reads)  # type: ignore[arg-type]

    monkeypatch.setattr(validate_module, "load_site_file", spy)
    return calls


def spy_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = loader_module.read_bytes

    def spy(display: str, real_path: str, used: int = 0) -> bytes:
        calls.append(display)
        return real(display, real_path, used)

    monkeypatch.setattr(loader_module, "read_bytes", spy)
    return calls


def test_a_valid_site_is_read_once_without_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    loads = spy_loads(monkeypatch)
    result = validate_file(str(EXAMPLE))
    assert result.ok and result.problems == []
    assert loads == [False]


def test_a_problem_reads_the_site_again_with_positions_and_reports_it_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads = spy_loads(monkeypatch)
    result = validate_file(str(FIXTURES / "invalid" / "status-typo.yaml"))
    assert loads == [False, True]
    assert [p.format().split(": ")[0] for p in result.problems] == [
        f"{FIXTURES / 'invalid' / 'status-typo.yaml'}:12:13"
    ]


def test_a_warning_alone_is_reported_at_its_position(monkeypatch: pytest.MonkeyPatch) -> None:
    loads = spy_loads(monkeypatch)
    result = validate_file(str(FIXTURES / "valid" / "deactivated-in-hunt-group.yaml"))
    assert result.ok and result.problems
    assert loads == [False, True]
    assert all(p.position.line > 1 for p in result.problems)


def test_both_reads_see_the_same_bytes_each_file_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "users.yaml").write_text(VALID_USER.replace("Anna", "' Anna'"))
    site = tmp_path / "site.yaml"
    site.write_text("version: 1\nsite: {id: t, name: T, country: DE}\nusers: !include users.yaml\n")
    reads = spy_reads(monkeypatch)
    result = validate_file(str(site))
    assert not result.ok
    assert sorted(reads) == sorted([str(site), str(tmp_path / "users.yaml")])
    assert result.problems[0].position.file.endswith("users.yaml")
    assert (result.problems[0].position.line, result.problems[0].position.column) == (1, 20)


def test_a_file_that_cannot_be_read_is_tried_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = spy_reads(monkeypatch)
    missing = tmp_path / "missing.yaml"
    result = validate_file(str(missing))
    assert not result.ok and "cannot read the file" in result.problems[0].message
    assert reads == [str(missing)]


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nversion: 2\n",  # a duplicate key, found by the loader
        "version: 1\nusers: *anna\n",  # an alias
        "version: 1\n" + "a: [" * 40 + "]" * 40 + "\n",  # too deep: the load stops
        "- a list\n",  # not a mapping
        "version: 1\nsite: {id: t, name: T, country: XX}\n",  # a rule of validation
    ],
)
def test_a_read_without_positions_stops_at_its_first_problem(tmp_path: Path, text: str) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(text)
    with pytest.raises(NeedsPositions):
        loaded = load_site_file(str(site), positions=False)
        validate_module.validate_loaded(loaded, validate_module.default_catalogue())
    assert not validate_file(str(site)).ok  # and the whole check reports it


def test_a_read_without_positions_gives_the_same_data(tmp_path: Path) -> None:
    without = load_site_file(str(EXAMPLE), positions=False)
    assert without.data == load_site_file(str(EXAMPLE)).data
    assert without.source.containers == {}  # nothing recorded
