"""Start-up is most of a small command's time, so each command imports only what it
runs: `onenet --version` and `--help` load no site file code, model or backend;
validate no planner, backend or applier; plan no applier and, without --out or
JSON, no saved-plan code; apply of a site file no saved-plan code; no command
the sandbox's seeding or consistency checker. Checked in a fresh interpreter
through the console entry point, by the modules it left loaded."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE

# the modules the command loaded, not those loaded before it (coverage, in CI, loads
# sqlite3, json and more in every subprocess before the command starts)
LOADED = (
    "import sys\n"
    "before = set(sys.modules)\n"
    "sys.argv = ['onenet', *sys.argv[1:]]\n"
    "from onenet_apply.console import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(sorted(set(sys.modules) - before), file=sys.stderr)\n"
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
        "onenet_apply.gcpause",  # the console sets how the collector resumes
        "onenet_apply.backends",
        "onenet_apply.backends.errors",
        "onenet_apply.private_keys",  # no private key on the command line: no imports
    }


# what reading a valid site file needs from neither: suggestions for misspellings
# (difflib), package data through importlib.resources (which loads tempfile)
NOT_FOR_A_VALID_SITE = {"difflib", "importlib.resources", "tempfile"}


def test_validate_loads_no_planner_backend_or_applier(workdir: Path) -> None:
    loaded = modules_loaded_by("validate", str(EXAMPLE), cwd=workdir)
    assert "onenet_apply.sitefile.validate" in loaded
    assert loaded & {"sqlite3", "hashlib", "socket", "jsonschema"} == set()
    assert loaded & NOT_FOR_A_VALID_SITE == set()
    assert ours(loaded, "onenet_apply.backends") == {
        "onenet_apply.backends",
        "onenet_apply.backends.errors",
    }
    assert not ours(loaded, "onenet_apply.planning", "onenet_apply.apply", "onenet_apply.savedplan")


# what only tests, benchmarks and fixtures use
NO_COMMAND = ("onenet_apply.backends.sandbox.seed", "onenet_apply.backends.sandbox.consistency")


def test_plan_loads_no_applier_and_no_saved_plan_code(workdir: Path) -> None:
    loaded = modules_loaded_by("plan", str(EXAMPLE), cwd=workdir)
    assert "onenet_apply.planning.planner" in loaded
    assert loaded & {"jsonschema", *NOT_FOR_A_VALID_SITE} == set()
    assert loaded & {"socket", "secrets", "random"} == set()  # no lock, password or fault
    assert not ours(loaded, "onenet_apply.apply", "onenet_apply.savedplan", *NO_COMMAND)


def test_plan_out_loads_the_saved_plan_writer(workdir: Path) -> None:
    loaded = modules_loaded_by("plan", str(EXAMPLE), "--out", "plan.json", cwd=workdir)
    assert "onenet_apply.savedplan.plan_file" in loaded
    assert (workdir / "plan.json").exists()


def test_apply_of_a_site_file_loads_no_saved_plan_code(workdir: Path) -> None:
    loaded = modules_loaded_by("apply", str(EXAMPLE), "--yes", cwd=workdir)
    assert "onenet_apply.apply.applier" in loaded
    assert loaded & {"jsonschema", "pyrage"} == set()  # pyrage only for recipients
    assert not ours(loaded, "onenet_apply.savedplan", *NO_COMMAND) - {
        "onenet_apply.savedplan",
        "onenet_apply.savedplan.recognition",  # is the argument a saved plan?
    }
    assert list(workdir.glob("onenet-credentials-*.csv"))  # it did apply


# records, for each module of the command line imported, whether the collector ran
COLLECTOR_DURING_IMPORTS = (
    "import builtins, gc, sys\n"
    "sys.argv = ['onenet', *sys.argv[1:]]\n"
    "seen = {}\n"
    "real = builtins.__import__\n"
    "def spy(name, *args, **kwargs):\n"
    "    if name.startswith('onenet_apply.cli'):\n"
    "        seen.setdefault(name, gc.isenabled())\n"
    "    return real(name, *args, **kwargs)\n"
    "builtins.__import__ = spy\n"
    "import importlib\n"
    "real_module = importlib.import_module\n"
    "def spy_module(name, *args):\n"
    "    seen.setdefault(name, gc.isenabled())\n"
    "    return real_module(name, *args)\n"
    "importlib.import_module = spy_module\n"
    "from onenet_apply.console import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(repr((seen, gc.isenabled(), gc.get_freeze_count() > 0)), file=sys.stderr)\n"
)


def test_the_command_lines_imports_run_with_the_collector_paused_then_frozen(
    tmp_path: Path,
) -> None:
    """Importing the command line and a command's modules makes classes and
    functions by the thousand, never garbage cycles: the collector is paused for
    them, and what they made is frozen (later passes skip it) before it resumes."""
    run = subprocess.run(
        [sys.executable, "-c", COLLECTOR_DURING_IMPORTS, "plan", "--help"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    seen, enabled_after, frozen = ast.literal_eval(run.stderr.strip().splitlines()[-1])
    assert {"onenet_apply.cli", "onenet_apply.cli.plan"} <= set(seen)
    assert not any(seen.values()), seen
    assert enabled_after and frozen
