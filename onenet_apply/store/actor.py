"""Who is applying: the OS user, host, process, command and CI run, and the git
commit of the file applied. Written to the lock row (so a waiting admin learns
who holds a site) and to the history (so a later one learns who changed it).
Nothing here is a secret: CI variables that name a run are read, tokens never.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Actor:
    os_user: str
    host: str
    pid: int
    command: str  # e.g. "onenet apply"
    ci_run: str = ""  # a link to (or the id of) the CI run, when there is one

    def describe(self) -> str:
        ci = f", CI run {self.ci_run}" if self.ci_run else ""
        return f"{self.os_user}@{self.host} pid {self.pid} ({self.command}{ci})"

    def application_name(self, site_id: str) -> str:
        """What pg_stat_activity shows for the lock's connection (libpq keeps 63 bytes)."""
        name = f"{self.command} {site_id} pid {self.pid}@{self.host}"
        return name.encode()[:63].decode(errors="ignore")


def current_actor(command: str) -> Actor:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a bare container)
        user = f"uid {os.getuid()}"
    return Actor(user, socket.gethostname(), os.getpid(), command, ci_run())


def ci_run(environ: dict[str, str] | None = None) -> str:
    """The CI run this process belongs to, as a link where the CI gives one."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repository = env.get("GITHUB_REPOSITORY", "")
        attempt = env.get("GITHUB_RUN_ATTEMPT", "")
        link = f"{server}/{repository}/actions/runs/{env['GITHUB_RUN_ID']}"
        return link + (f"/attempts/{attempt}" if attempt else "")
    for variable in ("CI_JOB_URL", "BUILD_URL", "CIRCLE_BUILD_URL", "BUILDKITE_BUILD_URL"):
        if env.get(variable):  # GitLab, Jenkins, CircleCI, Buildkite
            return env[variable]
    return env.get("ONENET_CI_RUN", "")


def git_source(path: str | os.PathLike[str]) -> tuple[str, str]:
    """`path` as its repository names it, and the commit checked out there, with
    "+changes" when the file differs from it or is not committed; the path as given
    and "" outside a git work tree or without git."""
    where = Path(path).resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    base = ["git", "-c", "core.fsmonitor=false", "-C", str(where.parent)]
    try:
        head = subprocess.run(
            [*base, "rev-parse", "--show-prefix", "--verify", "-q", "HEAD"],
            capture_output=True, text=True, env=env, timeout=10,
        )  # fmt: skip
        if head.returncode != 0:
            return str(path), ""
        status = subprocess.run(
            [*base, "status", "--porcelain", "--", where.name],
            capture_output=True, text=True, env=env, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return str(path), ""
    prefix, commit = ([*head.stdout.splitlines(), "", ""])[:2]
    if not commit:  # at the top of the work tree the prefix line is empty
        prefix, commit = "", prefix
    changed = "+changes" if status.stdout.strip() else ""
    return prefix + where.name, commit.strip() + changed


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of the file's bytes, as "sha256:HEX" ("" when it cannot be read): what
    was applied, exactly, even when its commit has uncommitted changes on top."""
    try:
        with open(path, "rb") as f:
            return "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return ""
