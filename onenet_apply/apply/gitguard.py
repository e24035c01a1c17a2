"""Would git pick up a new file? Credentials files must never land in a repository.

Admins run onenet in their site repository, where `git add .` commits whatever
is not ignored. A file is exposed when a directory at or above it holds `.git`
(a work tree) and `git check-ignore` does not ignore it. When git cannot answer
(not installed, not a repository it trusts), the answer is "exposed": a password
committed to a repository cannot be taken back.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Exposure:
    work_tree: Path  # the directory holding .git
    reason: str  # why the file would be picked up, in words
    ignorable: bool = True  # False when git cannot answer: .gitignore would not help

    def fix(self, pattern: str) -> str:
        """What the admin can do about it, in words."""
        outside = "write outside the work tree with --credentials-out"
        if self.ignorable:
            return f"add {pattern} to {self.work_tree / '.gitignore'}, or {outside}"
        return outside


def git_exposure(path: str | os.PathLike[str]) -> Exposure | None:
    """Why git would pick up a new file at `path`; None when it would not."""
    # the real place: a symlinked directory must not lead the walk around .git
    target = Path(os.path.realpath(path))
    directory = target.parent
    work_tree = next((d for d in (directory, *directory.parents) if (d / ".git").exists()), None)
    if work_tree is None:
        return None
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    command = ["git", "-c", "core.fsmonitor=false", "-C", str(directory)]
    try:
        answer = subprocess.run(
            [*command, "check-ignore", "-q", "--", str(target)],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
    except FileNotFoundError:
        return Exposure(work_tree, "git is not installed to tell whether it is ignored", False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return Exposure(work_tree, f"git could not tell whether it is ignored ({e})", False)
    if answer.returncode == 0:
        return None
    if answer.returncode == 1:
        return Exposure(work_tree, "it is not ignored, so `git add .` would commit it")
    said = (answer.stderr.strip().splitlines() or ["no reason given"])[0]
    return Exposure(work_tree, f"git could not tell whether it is ignored ({said})", False)
