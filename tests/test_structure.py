"""The layout's promises (docs/design.md, "Layout"): no import circle among the
package's modules, and no module over 450 lines. (No function over complexity
20 is ruff's C901 rule, set in pyproject.toml and run by CI.)"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "onenet_apply"
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every module of the package that `path` imports, wherever the import stands
    (a function-level import is still a dependency)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
    return {name for name in found if name in MODULES}


def test_the_package_has_no_import_cycle() -> None:
    graph = {name: imports_of(path) for name, path in MODULES.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as e:
        raise AssertionError(f"import cycle: {' -> '.join(e.args[1])}") from None


def test_the_cycle_check_sees_a_cycle() -> None:
    """The check above would fail on a circle (the planner importing the draft types
    back from a stage that imports the planner)."""
    graph = {name: imports_of(path) for name, path in MODULES.items()}
    graph["onenet_apply.planning.draft"].add("onenet_apply.planning.planner")
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError:
        return
    raise AssertionError("a planted cycle went unseen")


def test_no_module_is_over_450_lines() -> None:
    long = {
        name: count
        for name, path in MODULES.items()
        if (count := len(path.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
