"""Benchmark: whole-process `onenet plan` at several sizes, against a bare YAML parse.

    python -m benchmarks.bench_plan [--sizes 1000,10000,100000] [--runs 5] [--check]

For each size (users; groups are a fifth of that) it generates a site and times, in
alternation with a bare `yaml.load(f, Loader=yaml.CSafeLoader)` of the same file
in a fresh interpreter:
- a no-change plan: the sandbox already holds the site (seeded, activated);
- a plan from an empty sandbox.
Reported: medians, ratios to the baseline (targets: no-change <= 1.5, from empty
<= 2.0), growth per 10x step (target <= 12x), and peak memory of the plan process
(target at 100,000 users: <= 1 GB). With `--check` a missed target exits 1.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import time
from pathlib import Path

from benchmarks.common import (
    Goal,
    add_check_option,
    baseline_argv,
    conclude,
    onenet_argv,
    scratch_dir,
    write_site,
)
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.sitefile.validate import validate_file


def timed(argv: list[str], cwd: Path, expect: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in expect:
        raise SystemExit(f"{' '.join(argv)} exited {code}: {proc.stderr.read()[-2000:]!r}")
    return elapsed, usage.ru_maxrss


def measure(users: int, runs: int, tmp: Path) -> dict[str, float]:
    site = write_site(tmp, users, users // 5, name=f"site-{users}.yaml")
    settled, empty = tmp / f"settled-{users}", tmp / f"empty-{users}"
    settled.mkdir()
    empty.mkdir()
    spec = validate_file(str(site)).spec
    backend = SandboxBackend(settled / ".onenet" / "sandbox.db")
    backend.seed(spec)
    backend.close()
    SandboxBackend(empty / ".onenet" / "sandbox.db").close()  # plan reads an existing sandbox
    plan_args = ["plan", str(site), "--detailed-exitcode"]
    samples: dict[str, list[float]] = {"baseline": [], "no-change": [], "from-empty": []}
    peak = 0
    for _ in range(runs):
        samples["baseline"].append(timed(baseline_argv(site), tmp)[0])
        seconds, _ = timed(onenet_argv(*plan_args), settled, expect=(0,))
        samples["no-change"].append(seconds)
        seconds, rss = timed(onenet_argv(*plan_args), empty, expect=(2,))
        samples["from-empty"].append(seconds)
        peak = max(peak, rss)
    medians = {k: statistics.median(v) for k, v in samples.items()}
    medians["peak_mib"] = peak / 1024
    return medians


def targets(results: dict[int, dict[str, float]]) -> list[Goal]:
    """The targets of `measure`'s figures per size (users, ascending)."""
    out = []
    for users, r in results.items():
        out.append(
            Goal(
                f"no-change plan / yaml.load at {users:,} users",
                r["no-change"] / r["baseline"],
                1.5,
            )
        )
        out.append(
            Goal(
                f"from-empty plan / yaml.load at {users:,} users",
                r["from-empty"] / r["baseline"],
                2.0,
            )
        )
    for small, big in itertools.pairwise(results):
        if big == small * 10:
            for kind in ("no-change", "from-empty"):
                growth = results[big][kind] / results[small][kind]
                out.append(Goal(f"{kind} time growth {small:,} -> {big:,} users", growth, 12))
    if 100_000 in results:
        out.append(
            Goal("peak MiB of the plan at 100,000 users", results[100_000]["peak_mib"], 1024)
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    add_check_option(parser)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with scratch_dir() as tmp:
        for users in sizes:
            results[users] = measure(users, args.runs, Path(tmp))
            r = results[users]
            print(
                f"{users:>7,} users: baseline {r['baseline']:7.2f} s | no-change plan "
                f"{r['no-change']:7.2f} s = {r['no-change'] / r['baseline']:.2f} x | from empty "
                f"{r['from-empty']:7.2f} s = {r['from-empty'] / r['baseline']:.2f} x | peak "
                f"{r['peak_mib']:6.0f} MiB",
                flush=True,
            )
    print(f"median of {args.runs} runs")
    conclude(targets(results), args.check)


if __name__ == "__main__":
    main()
