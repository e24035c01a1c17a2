"""The pre-commit hook site repositories use (`.pre-commit-hooks.yaml`): a manifest
pre-commit accepts, matching site files and not CI files, whose entry run on the
files a commit touches passes good sites and fails a broken one with FILE:LINE:COL."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import EXAMPLE, ROOT

MANIFEST = ROOT / ".pre-commit-hooks.yaml"
REQUIRED = {"id", "name", "entry", "language"}  # pre-commit's own required keys


def hooks() -> list[dict]:
    loaded = yaml.safe_load(MANIFEST.read_text())
    assert isinstance(loaded, list) and loaded
    return loaded


def test_the_manifest_has_what_pre_commit_requires() -> None:
    (hook,) = hooks()
    assert set(hook) >= REQUIRED
    assert hook["id"] == "onenet-validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    assert files.search("sites/berlin-hq.yaml") and files.search("sites/munich.yml")
    for other in (".github/workflows/plan.yml", ".gitlab-ci.yml", "README.md", "sites/a.json"):
        assert not files.search(other), other


def run_entry(files: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The hook's entry as pre-commit runs it: the command, then the file names."""
    (hook,) = hooks()
    command = shlex.split(hook["entry"])
    assert command[0] == "onenet"  # the console script the package installs
    argv = [sys.executable, "-m", "onenet_apply", *command[1:], *map(str, files)]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_the_entry_passes_good_sites_and_fails_a_broken_one(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    shutil.copy(EXAMPLE, sites / "berlin-hq.yaml")
    (sites / "broken.yaml").write_text(
        EXAMPLE.read_text().replace("  anna:\n", "  anna:\n    colour: blue\n", 1)
    )
    good = run_entry([Path("sites/berlin-hq.yaml")], tmp_path)
    assert good.returncode == 0, good.stderr
    both = run_entry([Path("sites/berlin-hq.yaml"), Path("sites/broken.yaml")], tmp_path)
    assert both.returncode == 1
    assert re.search(r"^sites/broken\.yaml:\d+:\d+: ", both.stderr, re.MULTILINE)
    assert "colour" in both.stderr
