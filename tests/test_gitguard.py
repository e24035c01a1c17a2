"""When git cannot say whether a credentials file would be ignored, the file counts as
exposed: apply refuses, through the real CLI, with git's own reason and nothing changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tests.test_saved_plans import users


def fake_git(bin_dir: Path, monkeypatch: pytest.MonkeyPatch, script: str | None) -> None:
    """Put a `git` running `script` first on PATH, or for None make PATH hold only a
    `git` that cannot be run."""
    git = bin_dir / "git"
    git.write_text(f"#!/bin/sh\n{script or ''}\n")
    git.chmod(0o755 if script is not None else 0o644)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}" if script is not None else str(bin_dir)
    monkeypatch.setenv("PATH", path)


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (
            "echo 'fatal: detected dubious ownership in repository' >&2; exit 128",
            "git could not tell whether it is ignored (fatal: detected dubious ownership in "
            "repository)",
        ),
        ("exit 128", "git could not tell whether it is ignored (no reason given)"),
        (None, "git could not tell whether it is ignored ([Errno 13] Permission denied"),
    ],
)
def test_git_without_an_answer_counts_as_exposed(
    onenet,
    workdir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    script: str | None,
    reason: str,
) -> None:
    (workdir / ".git").mkdir()
    fake_git(tmp_path_factory.mktemp("bin"), monkeypatch, script)
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv")
    assert result.code == 1
    assert len(result.err.splitlines()) == 1
    assert f"inside the git work tree {workdir} and {reason}" in result.err
    # .gitignore cannot help when git cannot answer: only another place can
    assert ".gitignore" not in result.err
    assert "write outside the work tree with --credentials-out" in result.err
    assert users(workdir) == set()
    assert not (workdir / "c.csv").exists()
