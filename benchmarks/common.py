"""Timing helpers shared by the benchmarks: whole processes, interleaved, medians.

Every figure is a ratio to a baseline measured in the same run, in alternation
with the measured command, so a noisy machine moves both the same way. The
baselines are floors a Python tool that reads the site file cannot beat:

- `FLOOR`: a fresh interpreter that runs `yaml.load(f, Loader=yaml.CSafeLoader)`
  with the cyclic garbage collector off (with it on, the collector's passes over
  the growing data take most of the load's time: a flattering baseline);
- `EVENTS`: a fresh interpreter that only consumes libyaml's event stream
  (`yaml.parse` with the C parser), the cost of reading the file at all.

The package is byte-compiled first (`compile_package`), as an installed one is.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import onenet_apply
from benchmarks.sitegen import generate

FLOOR = "yaml.load, collector off"
EVENTS = "libyaml events"
FLOOR_CODE = (
    "import gc, sys, yaml; gc.disable(); "
    "yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)"
)
EVENTS_CODE = (
    "import gc, sys, yaml; from yaml.cyaml import CParser; gc.disable()\n"
    "for _ in yaml.parse(open(sys.argv[1], 'rb'), Loader=CParser): pass"
)


def compile_package() -> None:
    """Byte-compile onenet_apply, as installing it does: a source tree run with
    PYTHONDONTWRITEBYTECODE would otherwise compile every module on every start."""
    compileall.compile_dir(os.path.dirname(onenet_apply.__file__), quiet=1)


def write_site(directory: Path, users: int, groups: int, name: str = "site.yaml") -> Path:
    path = directory / name
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(generate(users, groups))
    return path


@dataclass(frozen=True)
class Sample:
    """One whole process: wall seconds, CPU seconds (user + system), peak RSS in MiB."""

    wall: float
    cpu: float
    peak_mib: float


def run_process(
    argv: Sequence[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    expect: Sequence[int] = (0,),
) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code not in expect:
        raise SystemExit(f"{' '.join(argv)} exited {code}:\n{stderr[-2000:]}")
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def floor_argv(site: Path) -> list[str]:
    return [sys.executable, "-c", FLOOR_CODE, str(site)]


def events_argv(site: Path) -> list[str]:
    return [sys.executable, "-c", EVENTS_CODE, str(site)]


def baselines(site: Path) -> dict[str, list[str]]:
    """The two floors of a site file, by name (see the module's docstring)."""
    return {FLOOR: floor_argv(site), EVENTS: events_argv(site)}


def floor_samples(site: Path, into: dict[str, list[float]]) -> None:
    """Run both floors of `site` once, adding their wall seconds to `into` by name:
    for benchmarks that alternate them with runs of their own."""
    for name, argv in baselines(site).items():
        into.setdefault(name, []).append(run_process(argv).wall)


def floor_lines(what: str, seconds: float, floors: dict[str, list[float]]) -> list[str]:
    """`what` took `seconds`: as ratios to the medians of the floors of its site file."""
    return [
        f"  {what}: {seconds / statistics.median(samples):.2f} x {name} "
        f"({statistics.median(samples):.2f} s, median of {len(samples)})"
        for name, samples in floors.items()
    ]


def onenet_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "onenet_apply", *args]


@dataclass(frozen=True)
class Command:
    argv: list[str]
    cwd: Path | None = None
    expect: tuple[int, ...] = (0,)


@dataclass
class Medians:
    """Per command name: the median wall and CPU seconds and the highest peak RSS."""

    wall: dict[str, float]
    cpu: dict[str, float]
    peak_mib: dict[str, float]

    def ratio(self, name: str, baseline: str = FLOOR) -> float:
        return self.wall[name] / self.wall[baseline]

    def lines(self, names: Sequence[str] | None = None) -> list[str]:
        """One line per command: seconds, then (for measured ones) both ratios."""
        out = []
        for name, seconds in self.wall.items():
            line = f"  {name:<34} {seconds:7.3f} s  cpu {self.cpu[name]:7.3f} s"
            if name not in (FLOOR, EVENTS) and (names is None or name in names):
                line += f"  = {self.ratio(name):.2f} x the floor"
                if EVENTS in self.wall:
                    line += f", {self.ratio(name, EVENTS):.2f} x the events"
            out.append(line)
        return out


def alternated(commands: dict[str, Command], runs: int) -> Medians:
    """Run each command `runs` times, round-robin, and return the medians of each."""
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(run_process(command.argv, command.cwd, expect=command.expect))
    return Medians(
        {n: statistics.median(s.wall for s in v) for n, v in samples.items()},
        {n: statistics.median(s.cpu for s in v) for n, v in samples.items()},
        {n: max(s.peak_mib for s in v) for n, v in samples.items()},
    )


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


def site_arguments(
    doc: str,
    runs: int,
    users: int = 10_000,
    more: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """The command line of a benchmark over one generated site: --users (default
    `users`), --groups (default a fifth of the users), --runs (default `runs`) and
    --check, and what `more` adds; `doc` is the module's docstring."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--users", type=int, default=users)
    parser.add_argument("--groups", type=int, default=None, help="default: USERS / 5")
    parser.add_argument("--runs", type=int, default=runs)
    add_check_option(parser)
    if more is not None:
        more(parser)
    args = parser.parse_args()
    if args.groups is None:
        args.groups = args.users // 5
    compile_package()
    return args


def add_check_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="exit 1 when any target is missed")


def header(users: int, groups: int, site: Path, runs: int) -> str:
    return (
        f"site: {users:,} users, {groups:,} groups, {site.stat().st_size / 1e6:.1f} MB; "
        f"median of {runs} whole-process runs, alternated"
    )


def conclude(targets: Sequence[Goal], check: bool) -> None:
    """Print every target's verdict; with `--check`, a missed one fails the process."""
    missed = [t for t in targets if not t.met]
    for target in targets:
        print(target.verdict())
    if check and missed:
        names = ", ".join(t.name for t in missed)
        raise SystemExit(f"{len(missed)} of {len(targets)} targets missed: {names}")
