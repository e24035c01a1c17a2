"""Benchmark: whole-process `onenet apply` of a generated site onto an empty sandbox.

    python -m benchmarks.bench_apply [--users 10000] [--groups 2000] [--runs 3] [--limited]
                                     [--check]

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
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
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


def add_limited_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limited", action="store_true", help="apply to a site with limited licences"
    )


def count_actions(site: Path, workdir: Path, limited: bool) -> int:
    """The ready actions of the site from empty, as the apply reports them."""
    import subprocess

    workdir.mkdir()
    if limited:
        limit_licences(workdir)
    proc = subprocess.run(
        onenet_argv("apply", str(site), "--yes"), cwd=workdir, capture_output=True, text=True
    )
    if proc.returncode not in (0, 3):
        raise SystemExit(proc.stderr[-2000:])
    return int(APPLIED.search(proc.stdout).group(1))


def main() -> None:
    args = site_arguments(__doc__, runs=3, more=add_limited_option)
    floor_script = str(Path(__file__).with_name("apply_floor.py"))
    with scratch_dir() as tmp_name:
        tmp = Path(tmp_name)
        site = write_site(tmp, args.users, args.groups)
        actions = count_actions(site, tmp / "count", args.limited)
        samples: dict[str, list[float]] = {APPLY: [], SAME_WORK: []}
        loads = {name: Command(argv) for name, argv in baselines(site).items()}
        load_runs = []
        for run in range(args.runs):
            workdir = tmp / f"run-{run}"
            workdir.mkdir()
            if args.limited:
                limit_licences(workdir)
            applied = run_process(onenet_argv("apply", str(site), "--yes"), workdir, expect=(0, 3))
            samples[APPLY].append(applied.wall)
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
    if args.limited:
        print("  the site owns limited licences of every package and option")
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
