"""Benchmark: whole-process `onenet validate` against a bare CSafeLoader parse.

    python -m benchmarks.bench_validate [--users 10000] [--groups 2000] [--runs 5] [--check]

Both commands start a fresh interpreter and read the same generated file; they
run in alternation and the medians are compared. Target: ratio <= 1.5; with
`--check` a missed target exits 1.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import (
    Goal,
    baseline_argv,
    conclude,
    interleaved_medians,
    onenet_argv,
    scratch_dir,
    site_arguments,
    write_site,
)

TARGET = 1.5


def targets(ratio: float) -> list[Goal]:
    return [Goal("onenet validate / yaml.load time ratio", ratio, TARGET)]


def main() -> None:
    args = site_arguments(__doc__, runs=5)
    with scratch_dir() as tmp:
        site = write_site(Path(tmp), args.users, args.groups)
        size = site.stat().st_size
        medians = interleaved_medians(
            {
                "yaml.load (CSafeLoader)": baseline_argv(site),
                "onenet validate": onenet_argv("validate", str(site)),
            },
            args.runs,
        )
    base, ours = medians.values()
    ratio = ours / base
    print(
        f"site: {args.users:,} users, {args.groups:,} groups, {size / 1e6:.1f} MB; "
        f"median of {args.runs} whole-process runs"
    )
    for name, seconds in medians.items():
        print(f"  {name:<26} {seconds:7.3f} s")
    conclude(targets(ratio), args.check)


if __name__ == "__main__":
    main()
