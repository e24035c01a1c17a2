"""The docs the code cites exist and say what the citations claim.

Comments, docstrings and docs point readers at `docs/` (a rule as
`docs/domain.md #L4`, an edge case as `docs/edge-cases.md #7` or "edge case 7").
These tests fail when such a pointer leads nowhere: a file cites a document that
is not in the repository, a rule id or edge case that the document does not
have, a link into a heading that is gone, or when edge-cases.md lists a test
that does not exist. So a reader who follows a pointer always finds its target.
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
