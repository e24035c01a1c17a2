"""Benchmark: the sandbox backend through the Backend protocol.

    python -m benchmarks.bench_sandbox [--users 10000] [--runs 5] [--check]

1. USERS user creations (with desk phones, so login details are issued and
   hashed), each `execute` its own durable transaction (WAL, synchronous=FULL).
   Baseline: bare single-row durable SQLite transactions on the same disk, in
   the same run. Target: >= 2,000 actions/s.
2. `read_state` of that site, median of RUNS. Target: <= 0.3 s.
With `--check` a missed target exits 1.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from pathlib import Path

from benchmarks.common import Goal, add_check_option, conclude, scratch_dir
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Action, Kind, Target

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


def targets(creations_per_second: float, read_seconds: float) -> list[Goal]:
    return [
        Goal(
            "sandbox user creations/s, each a durable transaction",
            creations_per_second,
            2000,
            at_least=True,
        ),
        Goal("read_state seconds", read_seconds, 0.3),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    add_check_option(parser)
    args = parser.parse_args()
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
        reads = []
        for _ in range(args.runs):
            start = time.perf_counter()
            state = backend.read_state(SITE)
            reads.append(time.perf_counter() - start)
        assert len(state.users) == args.users and issued == args.users
        backend.close()
    read = statistics.median(reads)
    print(f"sandbox: {args.users:,} user creations, each a durable transaction")
    print(f"  bare SQLite durable transactions {baseline:9,.0f} /s  (baseline, same run)")
    print(f"  sandbox execute(create user)     {rate:9,.0f} /s  = {rate / baseline:.2f} x baseline")
    print(f"  read_state of {args.users:,} users        {read:9.3f} s   median of {args.runs}")
    conclude(targets(rate, read), args.check)


if __name__ == "__main__":
    main()
