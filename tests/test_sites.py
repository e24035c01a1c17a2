"""Many sites in one run, through the real CLI: a directory of site files validated,
planned and applied in parallel worker processes, a section per site and a grand
summary, one broken site reported with FILE:LINE:COL while the others proceed,
combined exit codes, saved plans of several sites (a stale site refused alone, or
everything with --all-or-nothing), `onenet show` and the nightly drift check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from benchmarks.sitegen import generate
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Kind
from tests.conftest import EXAMPLE, run_process
from tests.sandbox_kit import act

BROKEN = "version: 1\nsite:\n  id: broken\n  name: Broken\n  country: DE\nusers:\n  anna: {frist_name: Anna}\n"


def write_sites(directory: Path, count: int, users: int, groups: int = 0) -> list[str]:
    directory.mkdir(exist_ok=True)
    ids = []
    for n in range(count):
        site = f"site-{n:03d}"
        (directory / f"{site}.yaml").write_text("".join(generate(users, groups, site_id=site)))
        ids.append(site)
    return ids


def state(workdir: Path, site: str):
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    try:
        return backend.read_state(site)
    finally:
        backend.close()


def test_fifty_sites_of_200_users_validated_planned_and_applied_in_parallel(
    onenet, workdir: Path
) -> None:
    sites = workdir / "sites"
    ids = write_sites(sites, 50, 200, 10)
    (sites / "zz-broken.yaml").write_text(BROKEN)
    (sites / ".hidden.yaml").write_text(BROKEN)  # hidden files are skipped
    (sites / "notes.txt").write_text("not a site")

    checked = onenet("validate", "sites", "--jobs", "2")
    assert checked.code == 1
    assert checked.out.count(" is valid: 200 users") == 50
    assert "sites/zz-broken.yaml:7:10: users.anna.frist_name: unknown key" in checked.err
    assert "errors in 1 of 51 files" in checked.err

    planned = onenet("plan", "sites", "--jobs", "2", "--format", "json", "--detailed-exitcode")
    assert planned.code == 1, planned.err  # an error outweighs the changes
    document = json.loads(planned.out)
    assert [s["id"] for s in document["sites"]] == [*ids, "broken"]  # in input order
    assert document["summary"] == {
        "sites": 51,
        "in_sync": 0,
        "changes": 50,
        "needs_human": 0,
        "error": 1,
    }
    broken = document["sites"][-1]
    assert broken["outcome"] == "error" and broken["file"] == "sites/zz-broken.yaml"
    assert broken["problems"][0]["line"] == 7

    applied = onenet(
        "apply", "sites", "--yes", "--jobs", "2", "--credentials-out", str(workdir / "c.csv")
    )
    assert applied.code == 1  # the broken site; the fifty others are applied
    assert applied.out.count("== site site-") == 50
    assert "== sites/zz-broken.yaml ==" in applied.out
    assert "51 sites: 50 with deferred work, 1 failed (sites/zz-broken.yaml)" in applied.out
    assert all(len(state(workdir, site).users) == 200 for site in (ids[0], ids[-1]))
    rows = (workdir / "c.csv").read_text().splitlines()[1:]
    assert {row.split(",")[0].strip('"') for row in rows} == set(ids)  # one file, every site

    (sites / "zz-broken.yaml").unlink()
    again = onenet("plan", "sites", "--detailed-exitcode", "--jobs", "2")
    assert again.code == 2  # the members wait for activation
    assert again.out.endswith("50 sites: 50 with changes\n")


def small_sites(workdir: Path, count: int = 3) -> list[str]:
    return write_sites(workdir / "sites", count, 6, 10)


def test_combined_exit_codes_of_plan_and_apply(onenet, workdir: Path) -> None:
    ids = small_sites(workdir)
    assert onenet("plan", "sites", "--detailed-exitcode").code == 2
    assert onenet("plan", "sites").code == 0
    first = onenet("apply", "sites", "--yes", "--jobs", "1")
    assert first.code == 3, first.err  # members wait for activation in every site
    for site in ids:
        assert onenet("sandbox", "activate", "--site", site, "--all").code == 0
    assert onenet("apply", "sites", "--yes").code == 0
    synced = onenet("plan", "sites", "--detailed-exitcode")
    assert synced.code == 0 and synced.out.endswith("3 sites: 3 in sync\n")
    # a failed activation in one site: only blocked items there, a human must act
    (workdir / "sites" / f"{ids[1]}.yaml").write_text("".join(generate(7, 10, site_id=ids[1])))
    assert onenet("apply", str(workdir / "sites" / f"{ids[1]}.yaml"), "--yes").code in (0, 3)
    assert onenet("sandbox", "fail", "--site", ids[1], "u6").code == 0
    drift = onenet("plan", "sites", "--detailed-exitcode", "--format", "json")
    assert drift.code == 4
    outcomes = [s["outcome"] for s in json.loads(drift.out)["sites"]]
    assert outcomes == ["in_sync", "needs_human", "in_sync"]
    assert onenet("apply", "sites", "--yes").code == 4
    # one site with changes as well: 2 for plan; its pending user makes apply 3
    (workdir / "sites" / f"{ids[2]}.yaml").write_text("".join(generate(7, 10, site_id=ids[2])))
    assert onenet("plan", "sites", "--detailed-exitcode").code == 2
    # deferred work in one site outweighs blocked work in another
    assert onenet("apply", "sites", "--yes").code == 3


def test_validate_and_plan_of_one_site_in_a_directory_read_as_before(onenet, workdir: Path) -> None:
    small_sites(workdir, 1)
    one = onenet("plan", "sites")
    assert one.code == 0 and not one.out.startswith("==") and "sites:" not in one.out


def test_two_files_of_one_site_are_an_error_naming_both(onenet, workdir: Path) -> None:
    small_sites(workdir, 2)
    sites = workdir / "sites"
    (sites / "site-001.yaml").write_text((sites / "site-000.yaml").read_text())
    checked = onenet("validate", "sites")
    assert checked.code == 1
    assert "site site-000 is also in sites/site-000.yaml" in checked.err
    applied = onenet("apply", "sites", "--yes")
    assert applied.code == 1
    assert "site site-000 is in sites/site-000.yaml and sites/site-001.yaml" in applied.err
    assert not state(workdir, "site-000").users  # neither file was applied
    # a saved plan holds the first as planned (its run could not know of the second)
    assert onenet("plan", "sites", "--out", "plan.json").code == 1
    from_plan = onenet("apply", "plan.json", "--yes")
    assert from_plan.code == 1
    both = "site site-000 is in sites/site-000.yaml and sites/site-001.yaml; one site, one file"
    assert from_plan.err.count(both) == 2
    assert not state(workdir, "site-000").users  # nor from the saved plan


@pytest.mark.parametrize(
    "broken",
    [
        lambda text: text.replace("package: standard", "package: std"),  # a rule
        lambda text: text + "  oops: [\n",  # YAML that ends before it is whole
    ],
    ids=["invalid", "not-yaml-all-through"],
)
def test_two_files_of_one_site_are_both_refused_when_one_is_broken(
    onenet, workdir: Path, broken
) -> None:  # type: ignore[no-untyped-def]
    """The broken one still names its site: neither is applied, from the files or
    from a plan saved of them."""
    sites = workdir / "sites"
    sites.mkdir()
    (sites / "a.yaml").write_text(EXAMPLE.read_text())
    (sites / "b.yaml").write_text(broken(EXAMPLE.read_text()))
    both = "site berlin-hq is in sites/a.yaml and sites/b.yaml; one site, one file"
    applied = onenet("apply", "sites", "--yes")
    assert applied.code == 1 and both in applied.err
    assert onenet("plan", "sites", "--out", "plan.json").code == 1
    from_plan = onenet("apply", "plan.json", "--yes")
    assert from_plan.code == 1 and from_plan.err.count(both) == 2
    checked = onenet("validate", "sites")
    assert "sites/b.yaml: site berlin-hq is also in sites/a.yaml" in checked.err
    assert not state(workdir, "berlin-hq").users


def test_a_file_named_twice_however_spelt_is_one_site(onenet, workdir: Path) -> None:
    small_sites(workdir, 2)
    (workdir / "link.yaml").symlink_to(workdir / "sites" / "site-001.yaml")
    result = onenet(
        "plan", "sites/site-000.yaml", "./sites/site-000.yaml", "sites", "link.yaml"
    )  # fmt: skip
    assert result.code == 0, result.err
    assert [line for line in result.out.splitlines() if line.startswith("==")] == [
        "== site site-000 (sites/site-000.yaml) ==",
        "== site site-001 (sites/site-001.yaml) ==",
    ]


def test_every_broken_site_is_reported_before_anything_is_applied(
    onenet, workdir: Path
) -> None:
    ids = small_sites(workdir, 2)
    (workdir / "sites" / "zz-broken.yaml").write_text(BROKEN)
    applied = onenet("apply", "sites", "--yes")
    assert applied.code == 1
    # the broken site (last by name) comes first, so it is on screen before any change
    headers = [line for line in applied.out.splitlines() if line.startswith("==")]
    assert headers == [
        "== sites/zz-broken.yaml ==",
        *(f"== site {site} (sites/{site}.yaml) ==" for site in ids),
    ]
    assert "sites/zz-broken.yaml:7:10: users.anna.frist_name: unknown key" in applied.err
    assert "3 sites: 2 with deferred work, 1 failed (sites/zz-broken.yaml)" in applied.out


def test_files_a_site_includes_beside_it_are_part_of_it_not_sites(
    onenet, workdir: Path
) -> None:
    """The README's split site (`users: !include users.yaml`) in a directory of sites."""
    ids = small_sites(workdir, 1)
    sites = workdir / "sites"
    example = yaml.safe_load(EXAMPLE.read_text())
    (sites / "groups").mkdir()
    (sites / "a-users.yaml").write_text(yaml.safe_dump(example["users"]))  # sorts first
    (sites / "groups" / "hunt-groups.yaml").write_text(yaml.safe_dump(example["hunt_groups"]))
    head = EXAMPLE.read_text().split("\nusers:\n")[0]
    (sites / "berlin.yaml").write_text(
        f"{head}\nusers: !include a-users.yaml\nhunt_groups: !include 'groups/hunt-groups.yaml'\n"
    )
    checked = onenet("validate", "sites")
    assert checked.code == 0, checked.err
    assert [line.split(":")[0] for line in checked.out.splitlines()] == [
        "sites/berlin.yaml",
        f"sites/{ids[0]}.yaml",
    ]
    planned = onenet("plan", "sites")
    assert planned.code == 0 and planned.out.endswith("2 sites: 2 with changes\n"), planned.err
    assert onenet("plan", "sites/a-users.yaml").code == 1  # named, it is read as a site
    # a comment that mentions a site file, or a file that names itself, drops no site
    other = sites / f"{ids[0]}.yaml"
    other.write_text(f"# was: !include {other.name}\n{other.read_text()}")
    (sites / "berlin.yaml").write_text(
        (sites / "berlin.yaml").read_text() + f"# users: !include {ids[0]}.yaml\n"
    )
    again = onenet("validate", "sites")
    assert again.code == 0 and len(again.out.splitlines()) == 2, again.err
    # a # in a quoted name is the name's; the name may follow the tag on the next line
    (sites / "a-users.yaml").rename(sites / "a #users.yaml")
    (sites / "groups" / "hunt-groups.yaml").rename(sites / "hunt groups.yaml")
    text = (sites / "berlin.yaml").read_text()
    text = text.replace("!include a-users.yaml", '!include "a #users.yaml"')
    text = text.replace("!include 'groups/hunt-groups.yaml'", "!include\n  hunt groups.yaml")
    (sites / "berlin.yaml").write_text(text)
    third = onenet("validate", "sites")
    assert third.code == 0 and len(third.out.splitlines()) == 2, third.err


def test_an_apply_of_several_sites_refuses_a_pipe_up_front(onenet, workdir: Path) -> None:
    """It reads each file twice; a pipe would be empty the second time (plan reads
    each once, and takes one)."""
    ids = small_sites(workdir, 1)
    os.mkfifo(workdir / "pipe.yaml")
    applied = onenet("apply", "pipe.yaml", f"sites/{ids[0]}.yaml", "--yes")
    assert applied.code == 1
    assert applied.err == (
        "Error: pipe.yaml is not a regular file: an apply of several sites reads each "
        "file twice (planned with the others first, then applied); save it to a file, "
        "or apply it alone\n"
    )
    assert not state(workdir, ids[0]).users


def test_a_sites_problems_come_under_its_header_in_a_log_of_both_streams(
    workdir: Path,
) -> None:
    import subprocess
    import sys

    small_sites(workdir, 1)
    (workdir / "sites" / "zz-broken.yaml").write_text(BROKEN)
    log = subprocess.run(
        [sys.executable, "-m", "onenet_apply", "plan", "sites", "--jobs", "1"],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60,
    ).stdout  # fmt: skip
    lines = log.splitlines()
    header = lines.index("== sites/zz-broken.yaml ==")
    assert lines[header + 1].startswith("sites/zz-broken.yaml:7:")


def test_a_directory_without_site_files_is_an_error(onenet, workdir: Path) -> None:
    (workdir / "empty").mkdir()
    for command in ("validate", "plan", "apply"):
        result = onenet(command, "empty")
        assert result.code == 1
        assert "empty is a directory with no site file in it" in result.err


def _stale_setup(onenet, workdir: Path) -> list[str]:
    ids = small_sites(workdir)
    assert onenet("apply", "sites", "--yes").code == 3
    for site in ids:
        assert onenet("sandbox", "activate", "--site", site, "--all").code == 0
    for site in ids:  # every site renames u1
        path = workdir / "sites" / f"{site}.yaml"
        path.write_text(path.read_text().replace("first_name: First1\n", "first_name: Renamed\n"))
    assert onenet("plan", "sites", "--out", "plan.json").code == 0
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")  # meanwhile, in the portal
    backend.execute(ids[1], act(Kind.UPDATE_PROFILE, "user", "u1", first_name="Portal"))
    backend.close()
    return ids


def test_a_saved_plan_of_several_sites_refuses_the_stale_site_alone(onenet, workdir: Path) -> None:
    ids = _stale_setup(onenet, workdir)
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    assert f"stale plan: site {ids[1]} changed since the plan was made" in result.err
    assert f"1 failed (site {ids[1]} (sites/{ids[1]}.yaml))" in result.out
    section = result.out.split(f"== site {ids[1]} (sites/{ids[1]}.yaml) ==\n")[1]
    assert section.startswith(f"== site {ids[2]}")  # refused first: no plan printed
    names = [state(workdir, site).users["u1"].item.first_name for site in ids]
    assert names == ["Renamed", "Portal", "Renamed"]


def test_all_or_nothing_refuses_the_whole_saved_plan(onenet, workdir: Path) -> None:
    ids = _stale_setup(onenet, workdir)
    result = onenet("apply", "plan.json", "--yes", "--all-or-nothing")
    assert result.code == 1
    assert "nothing was applied" in result.err and f"site {ids[1]}" in result.err
    assert result.out == ""
    names = [state(workdir, site).users["u1"].item.first_name for site in ids]
    assert names == ["First1", "Portal", "First1"]


def test_a_tampered_site_of_a_saved_plan_is_refused_alone(onenet, workdir: Path) -> None:
    ids = _stale_setup(onenet, workdir)
    document = json.loads((workdir / "plan.json").read_text())
    document["sites"][0]["plan"]["actions"][0]["changes"][0]["after"] = "Forged"
    (workdir / "plan.json").write_text(json.dumps(document))
    shown = onenet("show", "plan.json")
    assert shown.code == 1 and "changed after it was made" in shown.err
    assert f"== site {ids[2]} (sites/{ids[2]}.yaml) ==" in shown.out
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 1
    names = [state(workdir, site).users["u1"].item.first_name for site in ids]
    assert names == ["First1", "Portal", "Renamed"]


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_show_renders_a_saved_plan_without_a_backend(onenet, workdir: Path, fmt: str) -> None:
    small_sites(workdir)
    planned = onenet("plan", "sites", "--format", fmt, "--out", "plan.json", "--jobs", "1")
    assert planned.code == 0
    (workdir / ".onenet" / "sandbox.db").unlink()  # no backend needed
    shown = onenet("show", "plan.json", "--format", fmt)
    assert shown.code == 0 and shown.out == planned.out
    single = onenet("plan", "sites/site-000.yaml", "--format", fmt, "--backend", "sandbox:x.db")
    assert single.code == 1  # sandbox missing: show needs none
    assert onenet("show", "sites/site-000.yaml").code == 1


def test_a_site_saved_with_an_error_is_reported_again_and_the_others_applied(
    onenet, workdir: Path
) -> None:
    ids = small_sites(workdir, 2)
    (workdir / "sites" / "zz-broken.yaml").write_text(BROKEN)
    planned = onenet("plan", "sites", "--out", "plan.json", "--jobs", "1")
    assert planned.code == 1
    assert "3 sites: 2 with changes, 1 error" in planned.out
    shown = onenet("show", "plan.json", "--format", "markdown")
    assert shown.code == 1
    assert "### onenet plan: `sites/zz-broken.yaml`: error" in shown.out
    assert "| `broken` | `sites/zz-broken.yaml` | error |" in shown.out
    applied = onenet("apply", "plan.json", "--yes")
    assert applied.code == 1
    assert "site broken was not planned: sites/zz-broken.yaml:7:3" in applied.err
    assert all(len(state(workdir, site).users) == 6 for site in ids)


def test_a_stale_plan_of_one_site_is_refused_before_it_is_printed(onenet, workdir: Path) -> None:
    ids = _stale_setup(onenet, workdir)
    assert onenet("plan", f"sites/{ids[1]}.yaml", "--out", "one.json").code == 0
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    backend.execute(ids[1], act(Kind.UPDATE_PROFILE, "user", "u1", first_name="Again"))
    backend.close()
    result = onenet("apply", "one.json", "--yes")
    assert result.code == 1 and "stale plan" in result.err
    assert result.out == ""  # refused first: no plan printed


def test_a_site_the_planner_refuses_is_an_error_and_the_others_go_on(onenet, workdir: Path) -> None:
    small_sites(workdir, 2)
    (workdir / "sites" / "site-001.yaml").write_text("".join(generate(7, 10, site_id="site-001")))
    for jobs in ("1", "2"):
        result = onenet("plan", "sites", "--target", "user/u6", "--jobs", jobs)
        assert result.code == 1
        assert "no such object in the site file or on the backend" in result.err
        assert "2 sites: 1 with changes, 1 error" in result.out
    applied = onenet("apply", "sites", "--yes", "--target", "user/u6", "--jobs", "1")
    assert applied.code == 1
    assert "2 sites: 1 done, 1 failed (site site-000 (sites/site-000.yaml))" in applied.out


def test_show_of_one_site_and_of_files_that_are_no_plan(onenet, workdir: Path) -> None:
    small_sites(workdir, 1)
    planned = onenet("plan", "sites/site-000.yaml", "--out", "one.json")
    assert planned.code == 0
    shown = onenet("show", "one.json")
    assert shown.code == 0 and shown.out == planned.out
    (workdir / "bad.json").write_text('{"kind": "onenet-plan", "format_version": 3, "sites": {}}')
    bad = onenet("show", "bad.json")
    assert bad.code == 1 and 'holds a list of "sites"' in bad.err
    (workdir / "bad.json").write_text('{"kind": "onenet-plan", "format_version": 3, "sites": [1]}')
    assert "sites[0] is not a site's plan" in onenet("show", "bad.json").err
    (workdir / "bad.json").write_text('{"kind": "onenet-plan", "format_version": 3, "sites": [')
    broken = onenet("show", "bad.json")
    assert broken.code == 1 and "not valid JSON" in broken.err
    assert onenet("apply", "bad.json", "--yes").code == 1
    missing = onenet("show", "missing.json")
    assert (missing.code, missing.err) == (1, "Error: cannot read missing.json: no such file\n")
    (workdir / "notes.json").write_text("{}")
    other = onenet("show", "notes.json")
    assert other.err == "Error: notes.json is not a saved onenet plan (onenet plan --out)\n"


def test_sites_are_planned_in_worker_processes_of_a_fresh_interpreter(workdir: Path) -> None:
    """The same through `python -m onenet_apply` in a process of its own."""
    small_sites(workdir, 4)
    result = run_process("plan", "sites", "--jobs", "2", "--format", "json", cwd=workdir)
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert [s["id"] for s in document["sites"]] == [f"site-{n:03d}" for n in range(4)]
    assert document["summary"]["changes"] == 4
