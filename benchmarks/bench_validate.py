"""Benchmark: whole-process `onenet validate` against the floors of reading the file.

    python -m benchmarks.bench_validate [--users 10000] [--groups 2000] [--runs 5] [--check]

Each command starts a fresh interpreter and reads the same generated file; they
run in alternation and the medians are compared: the floor (`yaml.load` with
CSafeLoader, the collector off) and libyaml's event stream (see
benchmarks/common.py). Target: at most the floor (ratio <= 1.0); with `--check`
a missed target exits 1.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import (
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

TARGET = 1.0
VALIDATE = "onenet validate"


def targets(ratio: float) -> list[Goal]:
    return [Goal("onenet validate / floor time ratio", ratio, TARGET)]


def main() -> None:
    args = site_arguments(__doc__, runs=5)
    with scratch_dir() as tmp:
        site = write_site(Path(tmp), args.users, args.groups)
        commands = {name: Command(argv) for name, argv in baselines(site).items()}
        commands[VALIDATE] = Command(onenet_argv("validate", str(site)))
        medians = alternated(commands, args.runs)
        print(header(args.users, args.groups, site, args.runs))
    print("\n".join(medians.lines()))
    conclude(targets(medians.ratio(VALIDATE)), args.check)


if __name__ == "__main__":
    main()
