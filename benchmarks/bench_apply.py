"""Benchmark: whole-process `onenet apply` of a generated site onto an empty sandbox.

    python -m benchmarks.bench_apply [--users 10000] [--groups 2000] [--runs 3] [--check]

Reports ready actions carried out per second of the whole process (validation,
planning, the actions in durable batches of the applier's BATCH_SIZE, the
credentials CSV synced before each commit), the
median of RUNS fresh sandboxes, beside bare single-row durable SQLite
transactions on the same disk in the same run. Target: >= 1,000 actions/s; with
`--check` a missed target exits 1.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from pathlib import Path

from benchmarks.bench_sandbox import bare_transactions
from benchmarks.common import (
    Goal,
    conclude,
    onenet_argv,
    scratch_dir,
    site_arguments,
    write_site,
)


def targets(actions_per_second: float) -> list[Goal]:
    return [Goal("onenet apply actions/s", actions_per_second, 1000, at_least=True)]


def main() -> None:
    args = site_arguments(__doc__, runs=3)
    rates, seconds, baselines = [], [], []
    with scratch_dir() as tmp:
        site = write_site(Path(tmp), args.users, args.groups)
        for run in range(args.runs):
            baselines.append(bare_transactions(Path(tmp) / f"bare-{run}.db", 3000))
            workdir = Path(tmp) / f"run-{run}"
            workdir.mkdir()
            start = time.perf_counter()
            proc = subprocess.run(
                onenet_argv("apply", str(site), "--yes"),
                cwd=workdir,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            elapsed = time.perf_counter() - start
            if proc.returncode not in (0, 3):
                raise SystemExit(proc.stderr[-2000:])
            applied = int(re.search(r"Apply: (\d+) applied", proc.stderr).group(1))
            rates.append(applied / elapsed)
            seconds.append(elapsed)
    rate, base = statistics.median(rates), statistics.median(baselines)
    print(
        f"onenet apply of {args.users:,} users and {args.groups:,} groups onto an empty "
        f"sandbox, median of {args.runs}"
    )
    print(f"  {applied:,} actions in {statistics.median(seconds):.1f} s = {rate:,.0f} actions/s")
    print(
        f"  bare durable SQLite transactions {base:,.0f}/s in the same run: ratio {rate / base:.2f}"
    )
    conclude(targets(rate), args.check)


if __name__ == "__main__":
    main()
