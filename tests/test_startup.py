"""Start-up is most of a small command's time, so each command imports only what it
runs: `onenet --version` and `--help` load no site file code, model or backend;
validate no planner, backend or applier; plan no applier. Checked in a fresh
interpreter through the console entry point, by the modules it left loaded."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE

LOADED = (
    "import sys\n"
    "sys.argv = ['onenet', *sys.argv[1:]]\n"
    "from onenet_apply.console import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(sorted(sys.modules), file=sys.stderr)\n"
)

# what a command that reads no site file and opens no backend never needs
HEAVY = {"yaml", "phonenumbers", "sqlite3", "jsonschema", "hashlib", "json", "socket"}


def modules_loaded_by(*args: str, cwd: Path) -> set[str]:
    run = subprocess.run(
        [sys.executable, "-c", LOADED, *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    return set(ast.literal_eval(run.stderr.strip().splitlines()[-1]))


def ours(loaded: set[str], *prefixes: str) -> set[str]:
    return {m for m in loaded if m.startswith(prefixes)}


@pytest.mark.parametrize(
    "args", [["--version"], ["--help"], ["sandbox", "--help"], ["plan", "--help"]]
)
def test_version_and_help_load_no_model_site_file_or_backend(
    args: list[str], tmp_path: Path
) -> None:
    loaded = modules_loaded_by(*args, cwd=tmp_path)
    assert loaded & HEAVY == set()
    assert ours(loaded, "onenet_apply.") - ours(loaded, "onenet_apply.cli") == {
        "onenet_apply.console",
        "onenet_apply.endings",
        "onenet_apply.backends",
        "onenet_apply.backends.errors",
    }


def test_validate_loads_no_planner_backend_or_applier(workdir: Path) -> None:
    loaded = modules_loaded_by("validate", str(EXAMPLE), cwd=workdir)
    assert "onenet_apply.sitefile.validate" in loaded
    assert loaded & {"sqlite3", "hashlib", "socket", "jsonschema"} == set()
    assert ours(loaded, "onenet_apply.backends") == {
        "onenet_apply.backends",
        "onenet_apply.backends.errors",
    }
    assert not ours(loaded, "onenet_apply.planning", "onenet_apply.apply", "onenet_apply.savedplan")


def test_plan_loads_no_applier(workdir: Path) -> None:
    loaded = modules_loaded_by("plan", str(EXAMPLE), cwd=workdir)
    assert "onenet_apply.planning.planner" in loaded
    assert "jsonschema" not in loaded
    assert not ours(loaded, "onenet_apply.apply")
