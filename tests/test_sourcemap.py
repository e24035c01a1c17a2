"""Where a problem points when its exact place does not exist: the nearest ancestor."""

from __future__ import annotations

from pathlib import Path

from onenet_apply.sitefile.loader import load_site_file

SITE = """version: 1
site: {id: s, name: S, country: DE, number_pool: ["+493012345600-+493012345699"]}
users:
  anna:
    first_name: Anna
    number: 301234
"""


def test_a_missing_place_points_at_its_nearest_ancestor(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(SITE)
    source = load_site_file(str(path)).source

    def at(*parts: str | int) -> tuple[int, int]:
        position = source.locate(parts)
        assert position.file == str(path)
        return position.line, position.column

    assert at("users", "anna") == (5, 5)
    assert at("users", "anna", "last_name") == (5, 5)  # no such key: anna herself
    assert at("users", "anna", "first_name", 0) == (5, 17)  # inside a text: the text
    assert at("site", "number_pool", 0) == (2, 51)
    assert at("site", "number_pool", 3) == (2, 50)  # past the end: the list
    assert at("site", "number_pool", "x") == (2, 50)  # a list has no keys
    assert source.raw_scalar(("users", "anna", "number")) == "301234"  # as written
    assert source.raw_scalar(()) is None
    assert source.raw_scalar(("users", "ben", "number")) is None
