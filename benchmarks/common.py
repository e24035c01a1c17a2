"""Timing helpers shared by the benchmarks: whole processes, interleaved, medians.

Every figure is a ratio to a baseline measured in the same run, in alternation
with the measured command, so a noisy machine moves both the same way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.sitegen import generate

BASELINE_CODE = "import sys, yaml; yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)"


def write_site(directory: Path, users: int, groups: int, name: str = "site.yaml") -> Path:
    path = directory / name
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(generate(users, groups))
    return path


def time_process(
    argv: Sequence[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    expect: Sequence[int] = (0,),
) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in expect:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def baseline_argv(site: Path) -> list[str]:
    return [sys.executable, "-c", BASELINE_CODE, str(site)]


def onenet_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "onenet_apply", *args]


def interleaved_medians(
    commands: dict[str, list[str]], runs: int, cwd: Path | None = None, expect: Sequence[int] = (0,)
) -> dict[str, float]:
    """Run each command `runs` times, round-robin, and return the median seconds of each."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(time_process(argv, cwd=cwd, expect=expect))
    return {name: statistics.median(values) for name, values in samples.items()}


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="onenet-bench-", dir=os.environ.get("TMPDIR"))


@dataclass(frozen=True)
class Goal:
    """One figure against its target: at most `limit`, or at least it when `at_least`."""

    name: str
    value: float
    limit: float
    at_least: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def verdict(self) -> str:
        bound = ">=" if self.at_least else "<="
        return (
            f"  {self.name}: {self.value:,.2f} (target {bound} {self.limit:,g}: "
            f"{'met' if self.met else 'NOT met'})"
        )


def site_arguments(doc: str, runs: int) -> argparse.Namespace:
    """The command line of a benchmark over one generated site: --users, --groups,
    --runs (default `runs`) and --check; `doc` is the module's docstring."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=runs)
    add_check_option(parser)
    return parser.parse_args()


def add_check_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="exit 1 when any target is missed")


def conclude(targets: Sequence[Goal], check: bool) -> None:
    """Print every target's verdict; with `--check`, a missed one fails the process."""
    missed = [t for t in targets if not t.met]
    for target in targets:
        print(target.verdict())
    if check and missed:
        names = ", ".join(t.name for t in missed)
        raise SystemExit(f"{len(missed)} of {len(targets)} targets missed: {names}")
