"""The example CI pipelines (examples/github-workflow.yml, examples/gitlab-ci.yml)
run as far as can be done offline (tests/ci_kit.py): every shell step for real
against a sandbox standing for the platform, the REST APIs of GitHub and GitLab as
local servers; and both files checked against
SchemaStore's schemas for GitHub workflows and GitLab CI (check-jsonschema).

The promises: one plan comment (note) per pull request, updated on each push and
kept under the size limit with the whole plan as an artifact; on merge, the plan
that was reviewed is what is applied, a stale one is refused, and the encrypted
login details are kept even when the apply fails; a schedule reports drift and
converges; no plain-text credentials file is ever written."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pyrage
import pytest
from packaging.requirements import Requirement

from onenet_apply.backends.sandbox import SandboxBackend
from tests.ci_kit import (
    GITHUB_TOKEN,
    GITHUB_WORKFLOW,
    GITLAB_CI,
    FakeGitHub,
    FakeGitLab,
    Runner,
    each_shell_script,
    github_workflow,
    gitlab_pipeline,
    run_github_job,
    run_gitlab_job,
    serve,
)
from tests.conftest import EXAMPLE

SITES = ("alpha", "bravo", "charlie")
MARKER = "<!-- onenet-plan -->"
HEAD_SHA = "1" * 40
MERGE_SHA = "2" * 40
TOKEN = "glpat-test-token"


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    """A site repository of three sites (a git checkout), its recipients file, an
    empty platform, and the runner's folders beside it."""
    repo, home = tmp_path / "repo", tmp_path / "runner"
    (repo / "sites").mkdir(parents=True)
    home.mkdir()
    example = EXAMPLE.read_text(encoding="utf-8")
    for site in SITES:
        text = example.replace("id: berlin-hq", f"id: {site}")
        (repo / "sites" / f"{site}.yaml").write_text(text, encoding="utf-8")
    identity = pyrage.x25519.Identity.generate()
    (repo / ".onenet").mkdir()
    (repo / ".onenet" / "recipients.txt").write_text(f"{identity.to_public()}\n")
    (home / "identity.txt").write_text(f"{identity}\n")
    for command in (["init", "-q", "-b", "main"], ["add", "."],
                    ["-c", "user.name=ci", "-c", "user.email=ci@example.com",
                     "commit", "-q", "-m", "sites"]):  # fmt: skip
        subprocess.run(["git", *command], cwd=repo, check=True)
    platform = home / "platform.db"
    SandboxBackend(platform).close()
    return Runner(repo, home, {"ONENET_BACKEND": f"sandbox:{platform}"})


PULL_REQUEST = {
    "github.event.pull_request.number": "12",
    "github.event.pull_request.head.sha": HEAD_SHA,
}
MERGE = {"github.sha": MERGE_SHA}


def reviewed_on(api: FakeGitHub, runner: Runner, run_id: int | None = 7) -> None:
    """The merge of pull request 12, whose last commit's plan ran as `run_id`."""
    api.pulls[MERGE_SHA] = [
        {"number": 12, "merged_at": "2026-11-26T10:00:00Z", "merge_commit_sha": MERGE_SHA,
         "head": {"sha": HEAD_SHA}}
    ]  # fmt: skip
    if run_id is not None:
        api.runs = [{"id": run_id, "head_sha": HEAD_SHA,
                     "html_url": f"https://github.com/acme/sites/actions/runs/{run_id}"}]  # fmt: skip
        runner.plan_run = str(run_id)


def on_platform(runner: Runner, *args: str) -> subprocess.CompletedProcess[str]:
    """`onenet ARGS` in the checkout against the platform, as a person would run it."""
    env = runner.environment({"ONENET_BACKEND": runner.secrets["ONENET_BACKEND"]})
    return subprocess.run(
        [sys.executable, "-m", "onenet_apply", *args],
        cwd=runner.repo, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def platform_plan(runner: Runner, *paths: str) -> subprocess.CompletedProcess[str]:
    return on_platform(runner, "plan", *(paths or ("sites",)), "--detailed-exitcode")


def sandbox(runner: Runner, *args: str) -> None:
    assert on_platform(runner, "sandbox", *args).returncode == 0


def apply_by_hand(runner: Runner, site_file: str) -> None:
    """An apply outside the pipeline (its login details thrown away)."""
    by_hand = runner.home / "by-hand.csv"
    on_platform(runner, "apply", site_file, "--yes", "--credentials-out", str(by_hand))
    by_hand.unlink()


def break_bravo(runner: Runner) -> None:
    """A YAML syntax error in sites/bravo.yaml (line 19, column 14)."""
    broken = runner.repo / "sites" / "bravo.yaml"
    broken.write_text(broken.read_text().replace("first_name: Anna", "first_name: [Anna"))


def credentials(runner: Runner, artifact: Path) -> list[dict[str, str]]:
    """The login details in an encrypted artifact, decrypted with the identity."""
    [sealed] = list(artifact.glob("*.csv.age"))
    identity = pyrage.x25519.Identity.from_str((runner.home / "identity.txt").read_text().strip())
    plain = pyrage.decrypt(sealed.read_bytes(), [identity]).decode()
    return list(csv.DictReader(io.StringIO(plain)))


def no_plain_credentials(root: Path, rows: list[dict[str, str]]) -> None:
    """No file under `root` holds a password or a CSV of login details in plain text
    (but the platform's own database, a sandbox here)."""
    passwords = {row["password"].encode() for row in rows}
    assert passwords
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.parts and path.name != "platform.db":
            data = path.read_bytes()
            assert b"login_username" not in data, path
            assert not any(p in data for p in passwords), path


# -- static checks ------------------------------------------------------------------
def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(tool), "--builtin-schema", schema, str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("schema", "path", "break_it"),
    [
        ("vendor.github-workflows", GITHUB_WORKFLOW, ("runs-on:", "run-on:")),
        ("vendor.gitlab-ci", GITLAB_CI, ("when: always", "when: sometimes")),
    ],
)
def test_each_example_passes_its_platforms_schema_and_a_broken_copy_does_not(
    schema: str, path: Path, break_it: tuple[str, str], tmp_path: Path
) -> None:
    checked = check_jsonschema(schema, path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = tmp_path / path.name
    broken.write_text(path.read_text().replace(*break_it, 1))
    assert check_jsonschema(schema, broken).returncode == 1  # the check is a real one


def test_no_shell_step_splices_an_expression_into_its_script() -> None:
    """Values reach scripts through the environment, never `${{ }}` inside `run:`
    (a branch or title could otherwise inject commands)."""
    scripts = list(each_shell_script())
    assert len(scripts) >= 10
    for where, script in scripts:
        assert "${{" not in script, where


def test_both_examples_install_the_tool_pinned_from_its_repository() -> None:
    for spec in (github_workflow()["env"]["ONENET_APPLY"],
                 gitlab_pipeline()["variables"]["ONENET_APPLY"]):  # fmt: skip
        requirement = Requirement(spec)
        assert requirement.name == "onenet-apply"
        assert requirement.url and requirement.url.startswith("git+https://")
        assert "@v" in requirement.url.removeprefix("git+https://")  # a tag, not a branch
    installs = [s for w, s in each_shell_script() if "pip install" in s]
    assert installs and all('"$ONENET_APPLY"' in s for s in installs)


# -- GitHub: pull request --------------------------------------------------------------
def test_a_pull_request_gets_one_plan_comment_updated_on_each_push(runner: Runner) -> None:
    api = FakeGitHub(GITHUB_TOKEN)
    api.comments = [{"id": 31, "user": {"type": "User"}, "body": "LGTM"}]
    with serve(api) as url:
        first = run_github_job(runner, "plan", f"{url}", event=PULL_REQUEST)
        assert first.failed is None, [(s.name, s.code, s.err) for s in first.steps]
        assert runner.installed == [f"-m pip install {github_workflow()['env']['ONENET_APPLY']}"]
        assert first.outputs["plan"]["exitcode"] == "2"  # changes to review
        created = api.comments[-1]
        assert ("POST", "/repos/acme/sites/issues/12/comments") in api.requests
        body = created["body"]
        assert body.startswith(MARKER)
        for site in SITES:
            assert site in body
        assert f"Planned at {HEAD_SHA[:12]}; merging applies exactly this plan" in body
        saved = runner.artifacts / "onenet-plan"
        assert sorted(p.name for p in saved.iterdir()) == ["plan.json", "plan.md"]
        assert (saved / "plan.md").read_text() in body  # the whole plan: it fits
        # the next push: the comment already there is updated, no second one
        api.requests.clear()
        second = run_github_job(runner, "plan", f"{url}", run_id=8, event=PULL_REQUEST)
        assert second.failed is None
    assert len(api.comments) == 2  # the person's and the plan's
    changes = [(m, path) for m, path in api.requests if m != "GET"]
    assert changes == [("PATCH", f"/repos/acme/sites/issues/comments/{created['id']}")]
    assert api.comments[-1]["body"].startswith(MARKER)


def test_a_plan_too_long_for_a_comment_is_cut_at_a_site_and_kept_whole_as_an_artifact(
    runner: Runner,
) -> None:
    from benchmarks.sitegen import generate

    for site in SITES:
        (runner.repo / "sites" / f"{site}.yaml").unlink()
    for n in range(8):
        text = "".join(generate(120, 20, site_id=f"branch-{n}"))
        (runner.repo / "sites" / f"branch-{n}.yaml").write_text(text)
    api = FakeGitHub(GITHUB_TOKEN)
    with serve(api) as url:
        job = run_github_job(runner, "plan", url, event=PULL_REQUEST)
    assert job.failed is None, [(s.name, s.code, s.err) for s in job.steps]
    whole = (runner.artifacts / "onenet-plan" / "plan.md").read_text()
    assert len(whole) > 65536  # the whole plan does not fit in a comment
    [created] = api.comments
    body = created["body"]
    assert len(body) <= 65536
    assert "The plan is longer than a comment holds" in body
    assert "artifact `onenet-plan` of [this run]" in body and "/actions/runs/7)" in body
    shown = body.split("\n\n---\n**The plan is longer")[0].removeprefix(f"{MARKER}\n")
    summary = whole[whole.index("\n**8 sites: ") :].strip()
    assert shown.startswith(summary + "\n\n")  # the grand summary first, whole
    kept = shown.removeprefix(summary + "\n\n")
    assert whole.startswith(kept) and whole[len(kept) : len(kept) + 2] == "\n#"  # at a heading


def test_a_broken_site_fails_the_job_naming_its_line_and_the_others_are_planned(
    runner: Runner,
) -> None:
    break_bravo(runner)
    api = FakeGitHub(GITHUB_TOKEN)
    with serve(api) as url:
        job = run_github_job(runner, "plan", url, event=PULL_REQUEST)
    assert job.failed == "Validate every site"
    assert "sites/bravo.yaml:" in job.step("Validate every site").err  # file and line
    plan = job.step("Plan every site")
    assert plan.code == 1 and "sites/bravo.yaml:" in plan.err
    assert job.outputs["plan"]["exitcode"] == "1"
    [comment] = api.comments
    assert "A site could not be planned" in comment["body"]
    for site in ("alpha", "charlie"):  # the others are planned and shown
        assert f"### onenet plan: site `{site}`" in comment["body"]
    assert "sites/bravo.yaml:19:14: YAML syntax error" in comment["body"]


def test_gitlab_a_broken_site_fails_the_job_and_the_note_shows_the_others(
    runner: Runner,
) -> None:
    break_bravo(runner)
    api = FakeGitLab(TOKEN)
    with serve(api) as url:
        mr = gitlab_variables(runner, f"{url}/api/v4", CI_MERGE_REQUEST_IID="3")
        job = run_gitlab_job(runner, "plan", mr)
    assert job.failed == "plan"
    assert "sites/bravo.yaml:" in job.steps[1].err
    [note] = api.notes
    assert "A site could not be planned" in note["body"]
    assert "alpha" in note["body"] and "charlie" in note["body"]


# -- GitHub: merge ---------------------------------------------------------------------
def test_the_merge_applies_the_reviewed_plan_and_keeps_the_credentials_encrypted(
    runner: Runner,
) -> None:
    api = FakeGitHub(GITHUB_TOKEN)
    with serve(api) as url:
        assert run_github_job(runner, "plan", url, event=PULL_REQUEST).failed is None
        # the merge commit brings a change nobody reviewed in a plan: it is not applied
        site = runner.repo / "sites" / "alpha.yaml"
        site.write_text(site.read_text().replace("first_name: Anna", "first_name: Annabel"))
        reviewed_on(api, runner)
        job = run_github_job(runner, "apply", url, run_id=9, event=MERGE)
    assert job.failed is None, [(s.name, s.code, s.err) for s in job.steps]
    assert job.outputs["reviewed"]["run-id"] == "7"
    assert "applying the plan of #12, run https://github.com/acme/sites/actions/runs/7" in (
        job.step("Find the plan reviewed on the pull request").out
    )
    assert job.step("Apply the reviewed plan").code == 0
    rows = credentials(runner, runner.artifacts / "desk-phone-credentials-9")
    assert {r["site"] for r in rows} == set(SITES)  # every site's phones, once each
    assert len(rows) == len({(r["site"], r["user_id"]) for r in rows})
    no_plain_credentials(runner.home.parent, rows)
    # what was reviewed is applied; the unreviewed edit still waits for its own review
    sandbox(runner, "activate", "--all", "--site", "alpha")
    left = platform_plan(runner, "sites/alpha.yaml")
    assert left.returncode == 2 and "Annabel" in left.stdout


def test_a_stale_site_is_refused_the_others_applied_and_the_credentials_kept(
    runner: Runner,
) -> None:
    api = FakeGitHub(GITHUB_TOKEN)
    with serve(api) as url:
        assert run_github_job(runner, "plan", url, event=PULL_REQUEST).failed is None
        # the platform changes after the review: bravo is applied by someone else
        apply_by_hand(runner, "sites/bravo.yaml")
        reviewed_on(api, runner)
        job = run_github_job(runner, "apply", url, run_id=9, event=MERGE)
    assert job.failed == "Apply the reviewed plan"
    apply = job.step("Apply the reviewed plan")
    assert apply.code == 1 and "bravo" in apply.err and "stale" in apply.err
    rows = credentials(runner, runner.artifacts / "desk-phone-credentials-9")
    assert {r["site"] for r in rows} == {"alpha", "charlie"}  # kept though the job failed
    no_plain_credentials(runner.home.parent, rows)


@pytest.mark.parametrize("what", ["no pull request", "no successful plan"])
def test_a_merge_without_a_reviewed_plan_applies_nothing(runner: Runner, what: str) -> None:
    api = FakeGitHub(GITHUB_TOKEN)
    if what == "no successful plan":
        reviewed_on(api, runner, run_id=None)
    with serve(api) as url:
        job = run_github_job(runner, "apply", url, run_id=9, event=MERGE)
    assert job.failed == "Find the plan reviewed on the pull request"
    finder = job.step("Find the plan reviewed on the pull request")
    expected = (
        "was not merged from a pull request" if what == "no pull request"
        else f"pull request #12 has no successful plan of its last commit {HEAD_SHA}"
    )  # fmt: skip
    assert expected in finder.err
    assert "Apply the reviewed plan" not in [s.name for s in job.steps]  # never ran
    assert platform_plan(runner).returncode == 2  # nothing applied
    assert not (runner.artifacts / "desk-phone-credentials-9").exists()


# -- GitHub: schedule -------------------------------------------------------------------
def test_the_schedule_reports_drift_then_converges(runner: Runner) -> None:
    for site in SITES:  # the carrier activates a second after each creation
        sandbox(runner, "configure", "--site", site, "--activation", "after:1")
    runner.overrides["WAIT_ACTIVATION"] = "120"
    first = run_github_job(runner, "converge", run_id=20)
    assert first.failed is None, [(s.name, s.code, s.err) for s in first.steps]
    for site in SITES:
        assert f"- {site} (sites/{site}.yaml): changes to make" in first.summary
    converge = first.step("Converge (deferred work, as activations arrive)")
    rows = credentials(runner, runner.artifacts / "desk-phone-credentials-20")
    assert {r["site"] for r in rows} == set(SITES)
    assert platform_plan(runner).returncode == 0  # converged in one run, waiting
    second = run_github_job(runner, "converge", run_id=21)
    assert second.failed is None
    for site in SITES:
        assert f"- {site} (sites/{site}.yaml): in sync" in second.summary
    assert not (runner.artifacts / "desk-phone-credentials-21").exists()  # nothing issued
    assert converge.code == 0


def test_the_drift_check_names_a_site_that_needs_a_human(runner: Runner) -> None:
    apply_by_hand(runner, "sites/alpha.yaml")
    sandbox(runner, "fail", "--all", "--site", "alpha")  # every activation failed
    for site in ("bravo", "charlie"):
        sandbox(runner, "configure", "--site", site, "--activation", "immediate")
    runner.overrides["WAIT_ACTIVATION"] = "60"
    job = run_github_job(runner, "converge", run_id=30)
    drift = job.step("Check for drift")
    assert "- alpha (sites/alpha.yaml): needs a human" in job.summary
    assert "- bravo (sites/bravo.yaml): changes to make" in job.summary
    assert "::warning::onenet: site alpha: needs a human" in drift.out
    report = json.loads((runner.artifacts / "onenet-drift-30" / "drift.json").read_text())
    assert {s["id"]: s["outcome"] for s in report["sites"]}["alpha"] == "needs_human"
    assert job.failed is None  # blocked work is a warning, not a failed run
    converge = job.step("Converge (deferred work, as activations arrive)")
    assert "::warning::onenet: blocked items need a human" in converge.out


# -- GitLab ------------------------------------------------------------------------------
def gitlab_variables(runner: Runner, api_url: str, **extra: str) -> dict[str, str]:
    """A GitLab job's variables; its builds folder (outside the checkout) made."""
    builds = runner.home / "builds"
    builds.mkdir(exist_ok=True)
    return {
        "CI_BUILDS_DIR": str(builds),
        "CI_API_V4_URL": api_url,
        "CI_PROJECT_ID": "42",
        "CI_JOB_URL": "https://gitlab.example.com/acme/sites/-/jobs/5",
        "CI_COMMIT_SHORT_SHA": HEAD_SHA[:8],
        "ONENET_GITLAB_TOKEN": TOKEN,
        **extra,
    }


def test_gitlab_one_note_per_merge_request_and_the_merge_applies_the_reviewed_plan(
    runner: Runner,
) -> None:
    api = FakeGitLab(TOKEN)
    with serve(api) as url:
        mr = gitlab_variables(runner, f"{url}/api/v4", CI_MERGE_REQUEST_IID="3")
        first = run_gitlab_job(runner, "plan", mr)
        assert first.failed is None, [(s.code, s.err) for s in first.steps]
        assert runner.installed == [
            f"-m pip install --quiet {gitlab_pipeline()['variables']['ONENET_APPLY']}"
        ]
        second = run_gitlab_job(runner, "plan", mr)
        assert second.failed is None
        [note] = api.notes  # one note, updated by the second run
        assert note["body"].startswith(MARKER) and all(s in note["body"] for s in SITES)
        assert ("PUT", "/api/v4/projects/42/merge_requests/3/notes/100") in api.requests
        # the merge: the plan job's artifact is the reviewed plan
        api.merge_requests[MERGE_SHA] = [
            {"iid": 3, "state": "merged", "merge_commit_sha": MERGE_SHA, "sha": HEAD_SHA}
        ]
        api.pipelines = [{"id": 77, "sha": HEAD_SHA, "status": "success"}]
        api.jobs[77] = [{"id": 501, "name": "plan", "web_url": "https://gitlab/jobs/501"}]
        api.artifacts[501] = (runner.repo / "plan.json").read_bytes()
        (runner.repo / "plan.json").unlink()
        site = runner.repo / "sites" / "alpha.yaml"
        site.write_text(site.read_text().replace("first_name: Anna", "first_name: Annabel"))
        push = gitlab_variables(runner, f"{url}/api/v4", CI_COMMIT_SHA=MERGE_SHA, CI_JOB_ID="600")
        apply = run_gitlab_job(runner, "apply", push)
        assert apply.failed is None, [(s.code, s.out, s.err) for s in apply.steps]
        assert "applying the plan of !3, job https://gitlab/jobs/501" in apply.steps[1].out
    rows = credentials(runner, runner.repo)  # moved into the project for the artifact
    assert {r["site"] for r in rows} == set(SITES)
    no_plain_credentials(runner.home.parent, rows)
    sandbox(runner, "activate", "--all", "--site", "alpha")
    assert "Annabel" in platform_plan(runner, "sites/alpha.yaml").stdout  # not reviewed


def test_gitlab_a_merge_without_a_reviewed_plan_applies_nothing(runner: Runner) -> None:
    with serve(FakeGitLab(TOKEN)) as url:
        push = gitlab_variables(runner, f"{url}/api/v4", CI_COMMIT_SHA=MERGE_SHA, CI_JOB_ID="600")
        job = run_gitlab_job(runner, "apply", push)
    assert job.failed == "apply"
    assert "was not merged from a merge request" in job.steps[1].err
    assert platform_plan(runner).returncode == 2


def test_gitlab_the_schedule_reports_drift_then_converges(runner: Runner) -> None:
    for site in SITES:
        sandbox(runner, "configure", "--site", site, "--activation", "after:1")
    runner.overrides["WAIT_ACTIVATION"] = "120"
    job = run_gitlab_job(runner, "converge", gitlab_variables(runner, "", CI_JOB_ID="7"))
    assert job.failed is None, [(s.code, s.err) for s in job.steps]
    for site in SITES:
        assert f"  {site} (sites/{site}.yaml): changes to make" in job.steps[1].out
    rows = credentials(runner, runner.repo)
    assert {r["site"] for r in rows} == set(SITES)
    assert json.loads((runner.repo / "drift.json").read_text())["sites"]
    assert platform_plan(runner).returncode == 0


def test_the_pipelines_read_the_credentials_artifact_paths_they_write() -> None:
    """What each apply writes is what its artifact step keeps (else: lost)."""
    jobs = github_workflow()["jobs"]
    for name in ("apply", "converge"):
        steps = jobs[name]["steps"]
        writes = [s["run"] for s in steps if "--credentials-out" in s.get("run", "")]
        keeps = [s for s in steps if s.get("name") == "Keep the encrypted login details"]
        assert writes and keeps and keeps[0]["if"] == "always()"
        assert '"$RUNNER_TEMP/credentials-$GITHUB_RUN_ID.csv.age"' in writes[0]
        kept = keeps[0]["with"]["path"]
        assert kept == "${{ runner.temp }}/credentials-${{ github.run_id }}.csv.age"
    for name in ("apply", "converge"):
        job = gitlab_pipeline()[name]
        written = "\n".join(job["script"])
        assert '"$CI_BUILDS_DIR/credentials-$CI_JOB_ID.csv.age"' in written
        assert job["after_script"] == [
            'mv "$CI_BUILDS_DIR/credentials-$CI_JOB_ID.csv.age" . 2>/dev/null || true'
        ]
        assert job["artifacts"]["when"] == "always"
        assert "credentials-*.csv.age" in job["artifacts"]["paths"]
