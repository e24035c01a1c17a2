"""Benchmark: start-up of the command line, `onenet --version` and `onenet --help`.

    python -m benchmarks.bench_startup [--runs 21] [--check]

Each runs the installed `onenet` script (else `python -m onenet_apply`) in a
fresh interpreter, alternated with `python -c "import yaml"`, the least a tool
that reads YAML imports. Target: each at most 2x that; with `--check` a missed
target exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.common import (
    Command,
    Goal,
    add_check_option,
    alternated,
    compile_package,
    conclude,
    onenet_argv,
)

IMPORT_YAML = "python -c 'import yaml'"
TARGET = 2.0


def onenet_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("onenet")
    return [str(script), *args] if script.exists() else onenet_argv(*args)


def targets(ratios: dict[str, float]) -> list[Goal]:
    return [Goal(f"{name} / {IMPORT_YAML}", ratio, TARGET) for name, ratio in ratios.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    add_check_option(parser)
    args = parser.parse_args()
    compile_package()
    commands = {
        IMPORT_YAML: Command([sys.executable, "-c", "import yaml"]),
        "onenet --version": Command(onenet_command("--version")),
        "onenet --help": Command(onenet_command("--help")),
    }
    medians = alternated(commands, args.runs)
    print(f"median of {args.runs} whole-process runs, alternated")
    base = medians.wall[IMPORT_YAML]
    ratios = {}
    for name, seconds in medians.wall.items():
        line = f"  {name:<26} {seconds * 1000:7.1f} ms"
        if name != IMPORT_YAML:
            ratios[name] = seconds / base
            line += f" = {ratios[name]:.2f} x {IMPORT_YAML}"
        print(line)
    conclude(targets(ratios), args.check)


if __name__ == "__main__":
    main()
