"""Benchmark: whole-process `onenet apply` of a generated site onto an empty sandbox.

    python -m benchmarks.bench_apply [--users 10000] [--groups 2000] [--runs 3] [--limited]
                                     [--delete] [--check]

Reports ready actions carried out per second of the whole process (validation,
planning, the actions in durable batches of the sandbox's batch_size, the
credentials CSV synced before each commit), the median of RUNS fresh sandboxes,
beside floors run in alternation with it: `benchmarks/apply_floor.py`, which loads
the file and writes as many rows in the same batched durable transactions (and
syncs a CSV before each commit), and the load floors of benchmarks/common.py.
Target: >= 3,000 actions/s; with `--check` a missed target exits 1.

With `--limited`, each sandbox site is first given limited (ample) licences of every
package and option, as `onenet sandbox configure --licence` gives them, outside the
timing: every creation then meets the licence check, which must not count the site's
users (the apply would grow with the square of the users).

With `--delete`, each sandbox holds the site first, every user and group activated
(seeded, not timed), and the apply is of the site file without its users and groups
(`--allow-delete`): as many deletions, each group's checked for what forwards or
transfers to its number. The same-work floor writes as many rows as there are
deletions, in the same transactions.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import (
    Command,
    Goal,
    alternated,
    baselines,
    conclude,
    header,
    onenet_argv,
    run_process,
    scratch_dir,
    site_arguments,
    write_site,
)
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.cli.sandbox import MAX_LICENCES

BATCH_SIZE = SandboxBackend.batch_size  # the floor's transactions are the apply's

SITE_ID = "bench"  # the generated site's (benchmarks/sitegen.py)
TARGET = 3000
APPLY, SAME_WORK = "onenet apply", "apply floor (same batches)"
APPLIED = re.compile(r"Apply: (\d+) applied")


def targets(actions_per_second: float) -> list[Goal]:
    return [Goal("onenet apply actions/s", actions_per_second, TARGET, at_least=True)]


def limit_licences(workdir: Path) -> None:
    """Give the benchmark site of the sandbox in `workdir` limited licences of every
    package and option of the catalogue, more than the site uses."""
    from onenet_apply.model.catalogue import default_catalogue

    catalogue = default_catalogue()
    names = sorted(catalogue.packages | catalogue.options)
    owned = [f"--licence={name}={MAX_LICENCES}" for name in names]
    run_process(onenet_argv("sandbox", "configure", "--site", SITE_ID, *owned), workdir)


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limited", action="store_true", help="apply to a site with limited licences"
    )
    parser.add_argument(
        "--delete",
        action="store_true",
        help="the sandbox holds the site, activated; apply the site without its users and "
        "groups: every one is deleted",
    )


@dataclass(frozen=True)
class Scenario:
    """What every timed apply runs, and what its sandbox holds first (not timed)."""

    argv: list[str]
    prepare: Callable[[Path], None]
    said: list[str]  # how it differs from an apply from empty, under the header


def scenario(args: argparse.Namespace, site: Path, tmp: Path) -> Scenario:
    argv = onenet_argv("apply", str(site), "--yes")
    steps: list[Callable[[Path], None]] = []
    said: list[str] = []
    if args.delete:
        seeded = seed_sandbox(site, tmp / "seeded")
        argv = onenet_argv("apply", str(without_users_and_groups(site)), "--yes", "--allow-delete")
        steps.append(lambda workdir: copy_sandbox(seeded, workdir))
        said.append("the sandbox holds the site, activated: every user and group is deleted")
    if args.limited:
        steps.append(limit_licences)
        said.append("the site owns limited licences of every package and option")

    def prepare(workdir: Path) -> None:
        for step in steps:
            step(workdir)

    return Scenario(argv, prepare, said)


def seed_sandbox(site: Path, workdir: Path) -> Path:
    """A sandbox holding the site, every user and group activated."""
    from onenet_apply.sitefile.validate import validate_file

    path = workdir / ".onenet" / "sandbox.db"
    backend = SandboxBackend(path)
    backend.seed(validate_file(str(site)).spec)
    backend.close()  # the last connection: the file is whole, its WAL written back
    return path


def copy_sandbox(seeded: Path, workdir: Path) -> None:
    (workdir / ".onenet").mkdir()
    shutil.copyfile(seeded, workdir / ".onenet" / "sandbox.db")


def without_users_and_groups(site: Path) -> Path:
    """The site file with only its `site:` block (users and groups follow it)."""
    text = site.read_text("utf-8")
    path = site.with_name("emptied.yaml")
    path.write_text(text[: text.index("\nusers:")] + "\nusers: {}\n", "utf-8")
    return path


def count_actions(run: Scenario, workdir: Path) -> int:
    """The ready actions of the scenario's apply, as the apply reports them."""
    import subprocess

    workdir.mkdir()
    run.prepare(workdir)
    proc = subprocess.run(run.argv, cwd=workdir, capture_output=True, text=True)
    if proc.returncode not in (0, 3):
        raise SystemExit(proc.stderr[-2000:])
    return int(APPLIED.search(proc.stdout).group(1))


def main() -> None:
    args = site_arguments(__doc__, runs=3, more=add_options)
    floor_script = str(Path(__file__).with_name("apply_floor.py"))
    with scratch_dir() as tmp_name:
        tmp = Path(tmp_name)
        site = write_site(tmp, args.users, args.groups)
        run = scenario(args, site, tmp)
        actions = count_actions(run, tmp / "count")
        samples: dict[str, list[float]] = {APPLY: [], SAME_WORK: []}
        loads = {name: Command(argv) for name, argv in baselines(site).items()}
        load_runs = []
        for n in range(args.runs):
            workdir = tmp / f"run-{n}"
            workdir.mkdir()
            run.prepare(workdir)
            samples[APPLY].append(run_process(run.argv, workdir, expect=(0, 3)).wall)
            floor_argv = [
                sys.executable,
                floor_script,
                str(site),
                str(workdir / "floor.db"),
                str(workdir / "floor.csv"),
                str(actions),
                str(BATCH_SIZE),
            ]
            samples[SAME_WORK].append(run_process(floor_argv, workdir).wall)
            load_runs.append(alternated(loads, 1))
        print(header(args.users, args.groups, site, args.runs))
    for words in run.said:
        print(f"  {words}")
    apply_s, same_s = statistics.median(samples[APPLY]), statistics.median(samples[SAME_WORK])
    floors = {name: statistics.median(m.wall[name] for m in load_runs) for name in loads}
    rate = actions / apply_s
    print(f"  {actions:,} actions, in transactions of {BATCH_SIZE}")
    print(f"  {APPLY:<34} {apply_s:7.3f} s = {rate:,.0f} actions/s")
    print(
        f"  {SAME_WORK:<34} {same_s:7.3f} s = {actions / same_s:,.0f} actions/s: "
        f"the apply takes {apply_s / same_s:.2f} x its time"
    )
    for name, seconds in floors.items():
        print(f"  {name:<34} {seconds:7.3f} s: the apply takes {apply_s / seconds:.2f} x its time")
    conclude(targets(rate), args.check)


if __name__ == "__main__":
    main()
