"""Benchmark: peak memory (RSS) of validate, plan and apply on a large site.

    python -m benchmarks.bench_memory [--users 100000] [--groups USERS/5] [--runs 1] [--check]

Each command runs in a fresh interpreter (peak resident set size from the
kernel's rusage of the child): the floor (`yaml.load`, the collector off),
`onenet validate`, `onenet plan` from an empty sandbox and with the site already
there (no change), and `onenet apply` from empty. Target: the plan at most
600 MB; with `--check` a missed target exits 1.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import (
    FLOOR,
    Command,
    Goal,
    alternated,
    baselines,
    conclude,
    header,
    onenet_argv,
    scratch_dir,
    site_arguments,
    write_site,
)
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.sitefile.validate import validate_file

PLAN_TARGET_MB = 600
MB = 1e6 / 2**20  # MiB per MB


def targets(plan_peak_mb: float) -> list[Goal]:
    return [Goal("peak MB of onenet plan", plan_peak_mb, PLAN_TARGET_MB)]


def main() -> None:
    args = site_arguments(__doc__, runs=1, users=100_000)
    with scratch_dir() as tmp_name:
        tmp = Path(tmp_name)
        site = write_site(tmp, args.users, args.groups)
        settled, empty = tmp / "settled", tmp / "empty"
        backend = SandboxBackend(settled / ".onenet" / "sandbox.db")
        backend.seed(validate_file(str(site)).spec)
        backend.close()
        SandboxBackend(empty / ".onenet" / "sandbox.db").close()
        plan = ("plan", str(site), "--detailed-exitcode")
        commands = {FLOOR: Command(baselines(site)[FLOOR])}
        commands["onenet validate"] = Command(onenet_argv("validate", str(site)))
        commands["onenet plan, from empty"] = Command(onenet_argv(*plan), empty, (2,))
        commands["onenet plan, no change"] = Command(onenet_argv(*plan), settled, (0,))
        medians = alternated(commands, args.runs)
        for run in range(args.runs):  # last: it fills its sandbox
            workdir = tmp / f"apply-{run}"
            workdir.mkdir()
            applied = alternated(
                {
                    "onenet apply, from empty": Command(
                        onenet_argv("apply", str(site), "--yes"), workdir, (0, 3)
                    )
                },
                1,
            )
            medians.peak_mib.update(applied.peak_mib)
            medians.wall.update(applied.wall)
        print(header(args.users, args.groups, site, args.runs))
    for name, peak in medians.peak_mib.items():
        print(f"  {name:<28} peak {peak / MB:7.0f} MB   {medians.wall[name]:7.2f} s")
    plan_peak = max(v for k, v in medians.peak_mib.items() if "plan" in k) / MB
    conclude(targets(plan_peak), args.check)


if __name__ == "__main__":
    main()
