"""Benchmark: the sandbox backend through the Backend protocol.

    python -m benchmarks.bench_sandbox [--users 10000] [--runs 5] [--check]

1. USERS user creations (with desk phones, so login details are issued and
   hashed), each `execute` its own durable transaction (WAL, synchronous=FULL).
   Baseline: bare single-row durable SQLite transactions on the same disk, in
   the same run. Target: >= 2,000 actions/s.
2. The command line's cold read of a site with groups (USERS users, a fifth as
   many groups, seeded): `onenet sandbox status --format json` in a fresh
   interpreter, alternated with the floors of benchmarks/common.py over the site
   file that describes it and with a bare read of every row of the sandbox
   (`SELECT *` of each table, the collector off). Target: at most 0.5 x the floor,
   since reading the state should cost less than parsing the file.
With `--check` a missed target exits 1.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

from benchmarks.common import (
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
from onenet_apply.model.plan import Action, Kind, Target
from onenet_apply.sitefile.validate import validate_file

READ, ROWS = "onenet sandbox status (cold read)", "bare SELECT of every row"
READ_TARGET = 0.5
ROWS_CODE = (
    "import gc, sqlite3, sys; gc.disable(); db = sqlite3.connect(sys.argv[1])\n"
    "for (t,) in db.execute(\"SELECT name FROM sqlite_master WHERE type = 'table'\").fetchall():\n"
    "    db.execute(f'SELECT * FROM {t}').fetchall()"
)

SITE = "bench"


def create_action(i: int) -> Action:
    values = {
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
        "username": f"user.{i}",
        "email": f"u{i}@example.com",
        "number": f"+4930{1000000 + i}",
        "extension": f"{i:06d}",
        "package": "professional",
        "options": ["call-centre-standard"] if i % 5 == 0 else [],
        "services": ["voicemail"],
        "desk_phone": "yealink-t54w",
        "mobile": None,
    }
    return Action.make(
        Kind.CREATE, Target("user", f"u{i}"), {k: (None, v) for k, v in values.items()}
    )


def targets(creations_per_second: float, read_ratio: float) -> list[Goal]:
    return [
        Goal(
            "sandbox user creations/s, each a durable transaction",
            creations_per_second,
            2000,
            at_least=True,
        ),
        Goal("cold read of a site with groups / floor", read_ratio, READ_TARGET),
    ]


def bare_transactions(path: Path, count: int) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT)")
    start = time.perf_counter()
    for i in range(count):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?, ?)", (str(i), "x" * 200))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return count / elapsed


def cold_read(users: int, runs: int, tmp: Path) -> Medians:
    """The medians of the CLI's cold read of a seeded site with groups, and floors."""
    site = write_site(tmp, users, users // 5)
    workdir = tmp / "seeded"
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    backend.seed(validate_file(str(site)).spec)
    backend.close()
    commands = {name: Command(argv) for name, argv in baselines(site).items()}
    database = str(workdir / ".onenet" / "sandbox.db")
    commands[ROWS] = Command([sys.executable, "-c", ROWS_CODE, database])
    commands[READ] = Command(
        onenet_argv("sandbox", "status", "--site", SITE, "--format", "json"), workdir
    )
    return alternated(commands, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    add_check_option(parser)
    args = parser.parse_args()
    compile_package()
    actions = [create_action(i) for i in range(args.users)]
    with scratch_dir() as tmp:
        baseline = bare_transactions(Path(tmp) / "bare.db", min(args.users, 5000))
        backend = SandboxBackend(Path(tmp) / "sandbox.db", faults=None)
        backend.configure(SITE)
        start = time.perf_counter()
        issued = 0
        for action in actions:
            issued += backend.execute(SITE, action).credential is not None
        elapsed = time.perf_counter() - start
        rate = args.users / elapsed
        assert issued == args.users
        backend.close()
        read = cold_read(args.users, args.runs, Path(tmp))
    print(f"sandbox: {args.users:,} user creations, each a durable transaction")
    print(f"  bare SQLite durable transactions {baseline:9,.0f} /s  (baseline, same run)")
    print(f"  sandbox execute(create user)     {rate:9,.0f} /s  = {rate / baseline:.2f} x baseline")
    print(
        f"cold read of {args.users:,} users and {args.users // 5:,} groups, "
        f"median of {args.runs} whole-process runs, alternated:"
    )
    print("\n".join(read.lines([READ])))
    print(f"  the cold read takes {read.ratio(READ, ROWS):.2f} x the bare SELECT")
    conclude(targets(rate, read.ratio(READ)), args.check)


if __name__ == "__main__":
    main()
