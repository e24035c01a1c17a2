"""Benchmark: `onenet plan` of many sites in one run against one run per site.

    python -m benchmarks.bench_sites [--sites 50] [--users 200] [--jobs 2]
                                     [--memory-sites 500] [--check]

Generates SITES site files of USERS users in a directory, against an empty
sandbox, and times `onenet plan DIR --jobs JOBS` against the sum of one
`onenet plan FILE` per site run one after another (target: <= 0.6x). Then plans
MEMORY-SITES sites in one run and samples the resident memory of the whole process
tree (the parent and its workers) every 50 ms (target: < 1024 MiB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from benchmarks.common import Goal, add_check_option, conclude, onenet_argv, scratch_dir
from benchmarks.sitegen import generate
from onenet_apply.backends.sandbox import SandboxBackend

EXPECT = (0, 2)  # plan of new sites: changes


def write_sites(directory: Path, sites: int, users: int) -> list[Path]:
    directory.mkdir()
    paths = []
    for n in range(sites):
        path = directory / f"site-{n:04d}.yaml"
        path.write_text("".join(generate(users, users // 20, site_id=f"site-{n:04d}")))
        paths.append(path)
    return paths


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            with open(f"/proc/{current}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


def run(argv: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and the peak resident memory (KiB) of the process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kib(proc.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    if proc.returncode not in EXPECT:
        raise SystemExit(
            f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.read()[-2000:]!r}"
        )
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--memory-sites", type=int, default=500)
    add_check_option(parser)
    args = parser.parse_args()
    with scratch_dir() as tmp:
        work = Path(tmp)
        SandboxBackend(work / ".onenet" / "sandbox.db").close()
        paths = write_sites(work / "sites", args.sites, args.users)
        one_by_one = sum(run(onenet_argv("plan", str(p)), work)[0] for p in paths)
        together, _ = run(onenet_argv("plan", "sites", "--jobs", str(args.jobs)), work)
        print(
            f"{args.sites} sites x {args.users} users: one run per site {one_by_one:.2f} s, "
            f"one run --jobs {args.jobs} {together:.2f} s = {together / one_by_one:.2f} x",
            flush=True,
        )
        write_sites(work / "many", args.memory_sites, args.users)
        seconds, peak = run(onenet_argv("plan", "many", "--jobs", str(args.jobs)), work)
        print(
            f"{args.memory_sites} sites x {args.users} users: {seconds:.1f} s, peak RSS of the "
            f"process tree {peak / 1024:.0f} MiB"
        )
    conclude(
        [
            Goal(f"--jobs {args.jobs} / one run per site", together / one_by_one, 0.6),
            Goal(f"peak MiB planning {args.memory_sites} sites", peak / 1024, 1024),
        ],
        args.check,
    )


if __name__ == "__main__":
    main()
