"""Benchmark: whole-process `onenet plan` at several sizes, against the floors.

    python -m benchmarks.bench_plan [--sizes 1000,10000,100000] [--runs 5] [--check]

For each size (users; groups are a fifth of that) it generates a site and times,
in alternation with the floor (`yaml.load` with CSafeLoader, the collector off)
and libyaml's event stream of the same file, each in a fresh interpreter
(benchmarks/common.py):
- a no-change plan: the sandbox already holds the site (seeded, activated);
- a plan from an empty sandbox.
Reported: medians of wall and CPU time, ratios to both floors, growth of the CPU
time per 10x step, and the peak memory of the plan. Targets (ratios to the floor):
no-change at most 2.0 at 1,000 users and 1.3 from 10,000 on, from empty at most 1.6
from 10,000 on; CPU time growth at most 10.5x per 10x step. The peak memory target
at 100,000 users is bench_memory's. With `--check` a missed target exits 1.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from benchmarks.common import (
    FLOOR,
    Command,
    Goal,
    Medians,
    add_check_option,
    alternated,
    baselines,
    compile_package,
    conclude,
    onenet_argv,
    scratch_dir,
    write_site,
)
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.sitefile.validate import validate_file

NO_CHANGE, FROM_EMPTY = "no-change plan", "from-empty plan"
LARGE = 10_000  # from this size on, start-up is a small part of the time
TARGETS = {NO_CHANGE: (2.0, 1.3), FROM_EMPTY: (None, 1.6)}  # (small site, large site)
GROWTH = 10.5


def measure(users: int, runs: int, tmp: Path) -> Medians:
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
    commands = {name: Command(argv) for name, argv in baselines(site).items()}
    commands[NO_CHANGE] = Command(onenet_argv(*plan_args), settled, (0,))
    commands[FROM_EMPTY] = Command(onenet_argv(*plan_args), empty, (2,))
    return alternated(commands, runs)


def targets(results: dict[int, Medians]) -> list[Goal]:
    """The targets of `measure`'s figures per size (users, ascending)."""
    out = []
    for users, m in results.items():
        for kind, (small, large) in TARGETS.items():
            limit = large if users >= LARGE else small
            if limit is not None:
                out.append(Goal(f"{kind} / floor at {users:,} users", m.ratio(kind), limit))
    for small, big in itertools.pairwise(results):
        if big == small * 10 and small >= LARGE:
            for kind in (NO_CHANGE, FROM_EMPTY):
                growth = results[big].cpu[kind] / results[small].cpu[kind]
                out.append(
                    Goal(f"{kind} CPU time growth {small:,} -> {big:,} users", growth, GROWTH)
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    add_check_option(parser)
    args = parser.parse_args()
    compile_package()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with scratch_dir() as tmp:
        for users in sizes:
            results[users] = m = measure(users, args.runs, Path(tmp))
            print(f"{users:,} users, {users // 5:,} groups:")
            print("\n".join(m.lines()))
            print(
                f"  peak RSS: floor {m.peak_mib[FLOOR]:.0f} MiB, no-change plan "
                f"{m.peak_mib[NO_CHANGE]:.0f} MiB, from-empty plan {m.peak_mib[FROM_EMPTY]:.0f} MiB",
                flush=True,
            )
    print(f"median of {args.runs} runs, alternated")
    conclude(targets(results), args.check)


if __name__ == "__main__":
    main()
