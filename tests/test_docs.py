"""The docs the code cites exist and say what the citations claim.

Comments, docstrings and docs point readers at `docs/` (a rule as
`docs/domain.md #L4`, an edge case as `docs/edge-cases.md #7` or "edge case 7").
These tests fail when such a pointer leads nowhere: a file cites a document that
is not in the repository, a rule id or edge case that the document does not
have, a link into a heading that is gone, or when edge-cases.md lists a test
that does not exist. So a reader who follows a pointer always finds its target.
The same holds for the paths the README and the docs name (`onenet_apply/...`,
`tests/...`, a module under `onenet_apply/` such as `planning/planner.py`, or a
bare `swaps.py`), and the README's Layout table names every module of the package.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"
EDGE_CASES = DOCS / "edge-cases.md"
DOMAIN = DOCS / "domain.md"
EDGE_CASE_TESTS = ROOT / "tests" / "test_planner_edge_cases.py"

_SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    ".onenet",
    "node_modules",
    "build",
    "dist",
}
_TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".yml", ".yaml", ".cfg", ".ini", ".sh"}
# notes that live outside the repository: a citation of one leads nowhere
_OUTSIDE = re.compile(r"\b(?:DOMAIN|DESIGN|STYLE)\.md\b")
_DOCS_PATH = re.compile(r"(?<![\w/.-])docs/([\w./-]*\w)")
_EDGE_CASE = re.compile(r"\bedge[ -]cases?\s+(\d+)\b|\bedge-cases\.md\s*#(\d+)\b", re.IGNORECASE)
_RULE = re.compile(r"\bdomain\.md\s*#([A-Za-z]+\d+)\b")
_LISTED_TEST = re.compile(r"\b(tests/[\w/]+\.py)::(test_\w+)")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


@cache
def repo_texts() -> dict[str, str]:
    """Every text file of the project (relative path -> text), this file aside: it
    spells out the patterns it looks for."""
    texts = {}
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        here = Path(folder)
        for name in files:
            path = here / name
            no_suffix_script = path.suffix == "" and here.name == ".ci"
            if path.suffix not in _TEXT_SUFFIXES and not no_suffix_script:
                continue
            if path == Path(__file__).resolve():
                continue
            try:
                texts[path.relative_to(ROOT).as_posix()] = path.read_text("utf-8")
            except (UnicodeDecodeError, OSError):
                continue
    return texts


def edge_case_numbers() -> list[int]:
    return [int(n) for n in re.findall(r"^## (\d+)\. ", EDGE_CASES.read_text("utf-8"), re.M)]


def rule_ids() -> list[str]:
    return re.findall(r"^- \*\*([A-Z]+\d+)\*\*", DOMAIN.read_text("utf-8"), re.M)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Heading anchors (outside code blocks) and explicit `id`s of a Markdown text."""
    seen: Counter[str] = Counter()
    out = set(re.findall(r'\bid="([^"]+)"', markdown))
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.+)", line)):
            base = slug(m.group(1))
            out.add(base if not seen[base] else f"{base}-{seen[base]}")
            seen[base] += 1
    return out


def citations(pattern: re.Pattern[str]) -> list[tuple[str, int, str]]:
    """(file, line, cited text) for each match of `pattern`'s first non-empty group."""
    found = []
    for name, text in repo_texts().items():
        for m in pattern.finditer(text):
            cited = next(g for g in m.groups() if g is not None) if m.groups() else m.group(0)
            found.append((name, text.count("\n", 0, m.start()) + 1, cited))
    return found


# -- (a) every cited document is in the repository ------------------------------------
def test_the_docs_exist() -> None:
    for name in ("domain.md", "design.md", "edge-cases.md", "lifecycle.md"):
        assert (DOCS / name).is_file(), f"docs/{name} is missing"


def test_no_file_cites_notes_kept_outside_the_repository() -> None:
    found = citations(_OUTSIDE)
    assert not found, "cite docs/ instead: " + ", ".join(f"{f}:{n}: {c}" for f, n, c in found)


def test_every_cited_docs_file_exists() -> None:
    missing = [(f, n, c) for f, n, c in citations(_DOCS_PATH) if not (DOCS / c).exists()]
    assert not missing, ", ".join(f"{f}:{n}: docs/{c} does not exist" for f, n, c in missing)


def test_markdown_links_lead_to_files_and_headings_that_exist() -> None:
    broken = []
    for name in ["README.md", *(f"docs/{p.name}" for p in sorted(DOCS.glob("*.md")))]:
        source = ROOT / name
        for m in _LINK.finditer(source.read_text("utf-8")):
            target = m.group(1)
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            file = (source.parent / path).resolve() if path else source
            if not file.exists():
                broken.append(f"{name}: {target}: no such file")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text("utf-8")):
                broken.append(f"{name}: {target}: no such heading")
    assert not broken, "; ".join(broken)


def test_every_doc_is_in_the_readme_layout() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    layout = readme[readme.index("## Layout") :]
    missing = [p.name for p in DOCS.glob("*.md") if f"`docs/{p.name}`" not in layout]
    assert not missing, f"add to the README's Layout table: {missing}"


# -- (b) every cited edge case and rule is in its document -------------------------------
def test_edge_cases_are_numbered_one_by_one() -> None:
    numbers = edge_case_numbers()
    assert numbers == list(range(1, len(numbers) + 1)), numbers


def test_every_cited_edge_case_exists() -> None:
    known = set(edge_case_numbers())
    wrong = [(f, n, c) for f, n, c in citations(_EDGE_CASE) if int(c) not in known]
    assert not wrong, ", ".join(
        f"{f}:{n}: no edge case {c} in docs/edge-cases.md" for f, n, c in wrong
    )


def test_edge_case_tests_are_named_after_cases_that_exist() -> None:
    known = set(edge_case_numbers())
    named = {int(n) for n in re.findall(r"^def test_(\d+)_", EDGE_CASE_TESTS.read_text(), re.M)}
    assert named - known == set(), f"tests named after no edge case: {sorted(named - known)}"
    assert known - named == set(), f"edge cases without a test_N_ test: {sorted(known - named)}"


def test_rule_ids_are_unique() -> None:
    ids = rule_ids()
    assert ids and len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]


def test_every_cited_rule_exists() -> None:
    known = set(rule_ids())
    wrong = [(f, n, c) for f, n, c in citations(_RULE) if c not in known]
    assert not wrong, ", ".join(f"{f}:{n}: no rule {c} in docs/domain.md" for f, n, c in wrong)


# -- (c) every test edge-cases.md lists exists ---------------------------------------------
def listed_tests() -> list[tuple[str, str]]:
    """Read at collection: a missing page fails `test_the_docs_exist`, not collection."""
    return _LISTED_TEST.findall(EDGE_CASES.read_text("utf-8")) if EDGE_CASES.exists() else []


def test_every_edge_case_lists_a_test() -> None:
    sections = re.split(r"^## \d+\. ", EDGE_CASES.read_text("utf-8"), flags=re.M)[1:]
    assert sections and all(_LISTED_TEST.search(s) for s in sections)


@pytest.mark.parametrize(("path", "name"), listed_tests())
def test_listed_test_exists(path: str, name: str) -> None:
    file = ROOT / path
    assert file.exists(), f"docs/edge-cases.md lists {path}, which does not exist"
    defined = re.search(rf"^\s*(?:async\s+)?def {name}\(", file.read_text("utf-8"), re.M)
    assert defined, f"docs/edge-cases.md lists {path}::{name}, which {path} does not define"


# -- (d) every path the README and the docs name exists ------------------------------------
PACKAGE = ROOT / "onenet_apply"
# outputs a run writes and git ignores: named in the docs, absent from a clone
GENERATED = ("benchmarks/out/",)
_TOP = ("onenet_apply", "tests", "tools", "benchmarks", "docs", "schemas", "examples")
_ROOT_PATH = re.compile(rf"(?<![\w/.-])((?:{'|'.join(_TOP)})/(?:[\w./*-]*[\w*/])?)")
_SUBPACKAGES = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__")
_PACKAGE_PATH = re.compile(rf"(?<![\w/.-])((?:{'|'.join(_SUBPACKAGES)})/(?:[\w./*-]*[\w*/])?)")
_BARE_MODULE = re.compile(r"`(\w+\.py)`")


def doc_pages() -> dict[str, str]:
    """The README and every page of docs/ (relative path -> text)."""
    pages = {"README.md": (ROOT / "README.md").read_text("utf-8")}
    for page in sorted(DOCS.glob("*.md")):
        pages[f"docs/{page.name}"] = page.read_text("utf-8")
    return pages


def exists(path: Path) -> bool:
    """A file or folder, or a glob that matches one."""
    if "*" in path.name:
        return any(path.parent.glob(path.name))
    return path.exists()


def generated(cited: str) -> bool:
    return any(cited == g or cited.startswith(g) for g in GENERATED)


def test_generated_outputs_named_in_the_docs_are_ignored_by_git() -> None:
    ignored = (ROOT / ".gitignore").read_text("utf-8").splitlines()
    assert [g for g in GENERATED if g not in ignored] == []


def test_every_path_the_readme_and_docs_name_exists() -> None:
    missing = []
    for name, text in doc_pages().items():
        for m in _ROOT_PATH.finditer(text):
            cited = m.group(1)
            if not generated(cited) and not exists(ROOT / cited):
                missing.append(f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {cited}")
    assert not missing, "no such path: " + ", ".join(missing)


def test_every_module_path_under_the_package_exists() -> None:
    """`planning/planner.py` in the docs means onenet_apply/planning/planner.py."""
    missing = []
    for name, text in doc_pages().items():
        for m in _PACKAGE_PATH.finditer(text):
            if not exists(PACKAGE / m.group(1)):
                line = text.count("\n", 0, m.start()) + 1
                missing.append(f"{name}:{line}: {m.group(1)} (under onenet_apply/)")
    assert not missing, "no such module: " + ", ".join(missing)


def test_every_bare_module_name_is_a_file_of_the_project() -> None:
    files = {p.name for top in _TOP for p in (ROOT / top).rglob("*.py")}
    unknown = [
        f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(1)}"
        for name, text in doc_pages().items()
        for m in _BARE_MODULE.finditer(text)
        if m.group(1) not in files
    ]
    assert not unknown, "no module of that name: " + ", ".join(unknown)


def layout_rows() -> list[tuple[str, list[Path]]]:
    """The README's Layout table: each row's path cell as the paths it names. The first
    path is from the repository's root; a later bare name is its sibling (or, after a
    folder, inside it), a later path with a folder is from the root again."""
    readme = (ROOT / "README.md").read_text("utf-8")
    layout = readme[readme.index("## Layout") :]
    rows = []
    for line in layout.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        names = re.findall(r"`([^`]+)`", cell)
        first = ROOT / names[0]
        folder = first if names[0].endswith("/") else first.parent
        paths = [first] + [ROOT / n if "/" in n.rstrip("/") else folder / n for n in names[1:]]
        rows.append((cell.strip(), paths))
    return rows


def test_every_path_in_the_layout_table_exists() -> None:
    rows = layout_rows()
    missing = [
        f"{cell}: {p.relative_to(ROOT)}" for cell, paths in rows for p in paths if not p.exists()
    ]
    assert rows and not missing, "Layout table: no such path: " + "; ".join(missing)


def test_the_layout_table_names_every_module_of_the_package() -> None:
    named = {p for _, paths in layout_rows() for p in paths}
    modules = {p for p in PACKAGE.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    unnamed = sorted(str(p.relative_to(ROOT)) for p in modules - named)
    assert unnamed == [], f"add to the README's Layout table: {unnamed}"
