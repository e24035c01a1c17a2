"""Running the example CI pipelines offline: each `run:` step (GitHub) and `script:`
entry (GitLab) as the runner would, in bash, in a site repository of the test's
own, against a sandbox standing for the platform.

What a runner provides is stood in for, nothing more: `actions/checkout` and
`actions/setup-python` are the test's checkout and interpreter; the artifact
actions copy files into and out of a folder; the REST APIs of GitHub and GitLab
that the pipelines call are local HTTP servers of the test's. The install step
is the one step not run for real (it would fetch the tool from the network): a
stand-in `python` records the package it was asked for, and the tool the test
runs is the one under test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

GITHUB_WORKFLOW = ROOT / "examples" / "github-workflow.yml"
GITLAB_CI = ROOT / "examples" / "gitlab-ci.yml"
_EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")
_INSTALL = "pip install"
GITHUB_TOKEN = "ghs-test-token"


@dataclass
class StepResult:
    name: str
    code: int
    out: str
    err: str


@dataclass
class Runner:
    """One repository checkout, its runner folders, and the platform (a sandbox)."""

    repo: Path
    home: Path
    secrets: dict[str, str]
    plan_run: str = ""  # the run whose artifacts actions/download-artifact finds
    installed: list[str] = field(default_factory=list)  # what the install step asked for
    overrides: dict[str, str] = field(default_factory=dict)  # the test's own settings

    @property
    def temp(self) -> Path:
        return self.home / "runner-temp"

    @property
    def artifacts(self) -> Path:
        return self.home / "artifacts"

    def environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        """A clean environment: the runner's variables and the step's, never the test's
        own ONENET_* or PG* settings."""
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ONENET_", "PG", "GITHUB_", "CI_", "RUNNER_"))
        }
        keep["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{keep.get('PATH', '')}"
        keep["HOME"] = str(self.home)
        return {**keep, **extra, **self.overrides}

    def shell(self, script: str, env: Mapping[str, str], bash_flags: str = "-e") -> StepResult:
        """`script` in bash, in the checkout, as a runner runs a step."""
        install = _INSTALL in script
        env = dict(env)
        if install:  # a stand-in `python` that records what it would install
            shim = self.home / "install-shim"
            shim.mkdir(exist_ok=True)
            record = self.home / "installed.txt"
            (shim / "python").write_text(
                f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{record}"\n', encoding="utf-8"
            )
            (shim / "python").chmod(0o755)
            env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", bash_flags, "-c", script],
            cwd=self.repo, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if install:
            self.installed = (self.home / "installed.txt").read_text().splitlines()
        return StepResult(script.splitlines()[0], proc.returncode, proc.stdout, proc.stderr)


# -- GitHub Actions ---------------------------------------------------------------
@dataclass
class JobRun:
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: str | None = None  # the name of the first step that failed
    summary: str = ""

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)


def github_workflow() -> dict[str, Any]:
    return yaml.safe_load(GITHUB_WORKFLOW.read_text(encoding="utf-8"))


def run_github_job(
    runner: Runner,
    job_name: str,
    api_url: str = "",
    run_id: int = 7,
    event: Mapping[str, str] | None = None,
) -> JobRun:
    """Every step of `job_name`, in order; after a failure, only `always()` steps.
    `event`: the `github.event...` values the steps read, by their dotted path."""
    workflow = github_workflow()
    job = workflow["jobs"][job_name]
    result = JobRun()
    runner.temp.mkdir(parents=True, exist_ok=True)
    summary = runner.home / f"summary-{job_name}-{run_id}.md"
    summary.touch()
    names = {
        "github.run_id": str(run_id),
        "github.token": GITHUB_TOKEN,
        "runner.temp": str(runner.temp),
        **(event or {}),
    }
    for index, step in enumerate(job["steps"]):
        if result.failed is not None and "always()" not in str(step.get("if", "")):
            continue
        name = step.get("name") or step.get("uses", "")

        def resolve(value: object) -> str:
            def one(match: re.Match[str]) -> str:
                path = match.group(1).split(".")
                if path[0] == "secrets":
                    return runner.secrets.get(path[1], "")
                if path[0] == "steps":
                    return result.outputs.get(path[1], {}).get(path[3], "")
                return names[match.group(1)]

            return _EXPRESSION.sub(one, str(value))

        env = {k: resolve(v) for k, v in {**workflow["env"], **step.get("env", {})}.items()}
        outputs_file = runner.home / f"output-{job_name}-{index}"
        outputs_file.write_text("")
        env.update(
            GITHUB_OUTPUT=str(outputs_file),
            GITHUB_STEP_SUMMARY=str(summary),
            GITHUB_RUN_ID=str(run_id),
            GITHUB_API_URL=api_url,
            GITHUB_SERVER_URL="https://github.com",
            GITHUB_REPOSITORY="acme/sites",
            GITHUB_SHA=names.get("github.sha", ""),
            RUNNER_TEMP=str(runner.temp),
        )
        env = runner.environment(env)
        uses = step.get("uses", "")
        with_ = {k: resolve(v) for k, v in step.get("with", {}).items()}
        ok = True
        if "run" in step:
            done = runner.shell(step["run"], env)
            done.name = name
            result.steps.append(done)
            ok = done.code == 0
            result.outputs[step.get("id", f"step{index}")] = _outputs(outputs_file)
        elif uses.startswith("actions/upload-artifact"):
            _upload(runner, with_)
        elif uses.startswith("actions/download-artifact"):
            ok = _download(runner, with_)
        if not ok and result.failed is None:
            result.failed = name
    result.summary = summary.read_text()
    return result


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _upload(runner: Runner, with_: Mapping[str, str]) -> None:
    """actions/upload-artifact: the files of `path` that exist, under the name."""
    target = runner.artifacts / with_["name"]
    for line in with_["path"].splitlines():
        source = Path(line.strip())
        source = source if source.is_absolute() else runner.repo / source
        if line.strip() and source.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / source.name)


def _download(runner: Runner, with_: Mapping[str, str]) -> bool:
    """actions/download-artifact: an artifact of the run named by `run-id`."""
    run_id = with_.get("run-id", "")
    source = runner.artifacts / with_["name"]
    if not run_id or not source.is_dir() or runner.plan_run != run_id:
        return False
    target = runner.repo / with_["path"]
    shutil.copytree(source, target, dirs_exist_ok=True)
    return True


# -- GitLab CI --------------------------------------------------------------------
def gitlab_pipeline() -> dict[str, Any]:
    return yaml.safe_load(GITLAB_CI.read_text(encoding="utf-8"))


def run_gitlab_job(runner: Runner, job_name: str, variables: Mapping[str, str]) -> JobRun:
    """The job's before_script and script as one shell, as GitLab's runner does
    (`set -eo pipefail`, stopping at the first failing entry), then after_script."""
    pipeline = gitlab_pipeline()
    job = pipeline[job_name]
    env = runner.environment({**pipeline["variables"], **runner.secrets, **variables})
    result = JobRun()
    lines = [*pipeline["default"]["before_script"], *job["script"]]
    install, rest = lines[0], lines[1:]
    result.steps.append(runner.shell(install, env))
    done = runner.shell("set -o pipefail\n" + "\n".join(rest), env)
    result.steps.append(done)
    if done.code != 0:
        result.failed = job_name
    for line in job.get("after_script", []):
        result.steps.append(runner.shell(line, env))
    return result


@dataclass
class FakeGitLab:
    """GitLab's REST API for one project, as far as the pipeline uses it: notes of
    a merge request, its pipelines and their jobs' artifacts."""

    token: str
    notes: list[dict[str, Any]] = field(default_factory=list)
    merge_requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    artifacts: dict[int, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def handle(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        self.requests.append((method, path))
        if headers.get("PRIVATE-TOKEN") != self.token:
            return 401, b'{"message": "401 Unauthorized"}'
        route = path.split("?")[0].split("/projects/42/", 1)[-1]
        parts = route.split("/")
        if parts[:1] == ["merge_requests"] and parts[2:3] == ["notes"]:
            if method == "GET":
                return 200, json.dumps(self.notes).encode()
            note = {"id": len(self.notes) + 100, "body": json.loads(body)["body"]}
            if method == "POST":
                self.notes.append(note)
                return 201, json.dumps(note).encode()
            [existing] = [n for n in self.notes if n["id"] == int(parts[3])]
            existing["body"] = note["body"]
            return 200, json.dumps(existing).encode()
        if parts[:2] == ["repository", "commits"]:
            return 200, json.dumps(self.merge_requests.get(parts[2], [])).encode()
        if parts[:1] == ["merge_requests"] and parts[2:3] == ["pipelines"]:
            return 200, json.dumps(self.pipelines).encode()
        if parts[:1] == ["pipelines"]:
            return 200, json.dumps(self.jobs.get(int(parts[1]), [])).encode()
        if parts[:1] == ["jobs"] and parts[2:] == ["artifacts", "plan.json"]:
            return 200, self.artifacts[int(parts[1])]
        return 404, b'{"message": "404 Not Found"}'


@dataclass
class FakeGitHub:
    """GitHub's REST API for one repository, as far as the workflow uses it: a pull
    request's comments, the pull requests of a commit, workflow runs."""

    token: str
    comments: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by commit
    runs: list[dict[str, Any]] = field(default_factory=list)  # successful plan runs
    requests: list[tuple[str, str]] = field(default_factory=list)

    def handle(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        self.requests.append((method, path))
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, b'{"message": "Bad credentials"}'
        route, _, query = path.partition("?")
        parts = route.split("/repos/acme/sites/", 1)[-1].split("/")
        if parts[0] == "issues" and parts[2:] == ["comments"]:
            if method == "GET":
                page = int(dict(q.split("=") for q in query.split("&")).get("page", "1"))
                return 200, json.dumps(self.comments[(page - 1) * 100 : page * 100]).encode()
            comment = {"id": 900 + len(self.comments), "user": {"type": "Bot"},
                       "body": json.loads(body)["body"]}  # fmt: skip
            self.comments.append(comment)
            return 201, json.dumps(comment).encode()
        if parts[:2] == ["issues", "comments"] and method == "PATCH":
            [comment] = [c for c in self.comments if c["id"] == int(parts[2])]
            comment["body"] = json.loads(body)["body"]
            return 200, json.dumps(comment).encode()
        if parts[0] == "commits" and parts[2:] == ["pulls"]:
            return 200, json.dumps(self.pulls.get(parts[1], [])).encode()
        if parts[:2] == ["actions", "runs"]:
            return 200, json.dumps({"id": int(parts[2]), "workflow_id": 5}).encode()
        if parts[:2] == ["actions", "workflows"] and parts[3:] == ["runs"]:
            wanted = dict(q.split("=") for q in query.split("&"))
            runs = [r for r in self.runs if r["head_sha"] == wanted.get("head_sha")]
            return 200, json.dumps({"workflow_runs": runs}).encode()
        return 404, b'{"message": "Not Found"}'


@contextmanager
def serve(api: FakeGitHub | FakeGitLab) -> Iterator[str]:
    """`api` on a local port, for as long as the block runs: its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            code, reply = api.handle(self.command, self.path, body, self.headers)
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_PUT = do_PATCH = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def each_shell_script() -> Iterator[tuple[str, str]]:
    """(where, script) of every shell script in both examples."""
    for name, job in github_workflow()["jobs"].items():
        for step in job["steps"]:
            if "run" in step:
                yield f"github {name}: {step.get('name')}", step["run"]
    pipeline = gitlab_pipeline()
    for name, job in pipeline.items():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                for entry in job.get(key, []):
                    yield f"gitlab {name}.{key}", entry
