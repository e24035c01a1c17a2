"""tests/README.md maps the source to its tests: the map names every module of the
package and every test file, and each file it names exists. A module or test file
added without its row, or a row left behind by a rename, fails here."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from tests.conftest import ROOT

TESTS = ROOT / "tests"
PACKAGE = ROOT / "onenet_apply"
_ROW = re.compile(r"^\|(?P<first>[^|]*)\|(?P<second>[^|]*)\|\s*$", re.M)
_NAME = re.compile(r"`([\w./-]+\.py)`")


def section(heading: str) -> str:
    text = (TESTS / "README.md").read_text("utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def mirror() -> list[tuple[list[str], list[str]]]:
    """The rows of the map: (module names, test file names)."""
    return [
        (_NAME.findall(row["first"]), _NAME.findall(row["second"]))
        for row in _ROW.finditer(section("The source, mirrored"))
    ]


def modules_named() -> set[str]:
    """Module paths of the first column: `model/phone.py`, `numbering.py` is
    model/phone.py and model/numbering.py; a bare name first in its row is the
    package's own."""
    named = set()
    for sources, _ in mirror():
        folder = PurePosixPath()
        for name in sources:
            if "/" in name:
                folder = PurePosixPath(name).parent
            named.add(str(folder / PurePosixPath(name).name))
    return named


def test_every_module_of_the_package_has_its_row() -> None:
    modules = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    named = {m for m in modules_named() if not m.startswith(("tools/", "benchmarks/"))}
    assert sorted(modules - named) == [], "modules without a row in tests/README.md"
    assert sorted(named - modules) == [], "rows naming modules that do not exist"


def test_every_test_file_is_named_and_every_file_named_exists() -> None:
    files = {path.name for path in TESTS.glob("*.py")}
    tests_named = {name for _, tests in mirror() for name in tests}
    kits_named = {
        name
        for row in _ROW.finditer(section("Shared kits"))
        for name in _NAME.findall(row["first"])
    }
    everywhere = set(_NAME.findall((TESTS / "README.md").read_text("utf-8")))
    test_files = {name for name in files if name.startswith("test_")}
    assert sorted(test_files - tests_named) == [], "test files without a row"
    assert sorted((tests_named | kits_named) - files) == [], "named files that do not exist"
    mentioned = {name for name in everywhere if name.startswith("test_")}
    assert sorted(mentioned - files) == [], "named test files that do not exist"
    kits = files - test_files - {"__init__.py"}
    assert sorted(kits - kits_named) == [], "kits without a row"
