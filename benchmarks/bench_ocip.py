"""Benchmark: whole-process `onenet apply` and a no-change `onenet plan` over OCI-P.

    python -m benchmarks.bench_ocip [--users 10000] [--groups USERS/5] [--check]

The loopback peer (`onenet sandbox serve-ocip --stats`) runs in its own process,
one per phase, and counts the documents and requests it answered; the client
is `onenet ... --backend ocip://127.0.0.1:PORT/sandbox` as a whole process, its
CPU time (user + system) taken from its own rusage (`os.wait4`), the peer's
from the peer's. Phases: an apply of a generated site (users, 5 in 6 with a
desk phone, and GROUPS groups) from empty; every number activated (`onenet sandbox
activate`) and an apply that converges; a no-change plan. Reported: users/s of
the first apply, requests per user, documents/s, client and peer CPU per
request. Baseline, in the same run: the same apply and no-change plan with the
sandbox backend directly, so the ratio is the cost of the wire (and of the peer,
which shares the machine). Target: at most 1 ms of client CPU per request, so
that a real server, not the client, sets the pace. With `--check` a missed target
exits 1.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import (
    Goal,
    add_check_option,
    compile_package,
    conclude,
    floor_lines,
    floor_samples,
    onenet_argv,
    scratch_dir,
    write_site,
)

SITE = "bench"
LOGIN = {"ONENET_OCIP_USER": "bench-admin", "ONENET_OCIP_PASSWORD": "Bench-Secret-42"}
TARGET_CPU_MS = 1.0
SERVED = re.compile(r"served (\d+) documents, (\d+) requests")


@dataclass(frozen=True)
class Run:
    """One whole process: wall seconds, CPU seconds (user + system), what it printed
    last (the end of its stdout, where the summary is, then its stderr)."""

    seconds: float
    cpu: float
    printed: str


@dataclass
class Phase:
    """One client process against its own peer process, with the peer's counts."""

    client: Run
    peer_cpu: float = 0.0
    documents: int = 0
    requests: int = 0

    def per_request_ms(self, cpu: float) -> float:
        return 1000 * cpu / max(self.requests, 1)


def run(argv: Sequence[str], cwd: Path, env: dict[str, str], expect: Sequence[int]) -> Run:
    """Run one process to its end; its own rusage only (never the peer's)."""
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as out,
        tempfile.TemporaryFile("w+", encoding="utf-8") as err,
    ):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(max(out.seek(0, os.SEEK_END) - 4000, 0))
        err.seek(0)
        text = out.read()[-2000:] + err.read()
    if code not in expect:
        raise SystemExit(f"{' '.join(argv)} exited {code}:\n{text[-2000:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, text)


@contextmanager
def peer(database: Path, cwd: Path, env: dict[str, str], phase: Phase) -> Iterator[str]:
    """A serve-ocip process for one phase: yields its URL; on the way out it is
    stopped (SIGTERM) and its CPU time and counts go into `phase`."""
    argv = onenet_argv(
        "sandbox", "serve-ocip", "--stats", "--backend", f"sandbox:{database}",
        "--listen", "127.0.0.1:0",
    )  # fmt: skip
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("listening on "):
                raise SystemExit(f"serve-ocip did not start: {line!r}")
            yield f"ocip://127.0.0.1:{line.strip().rpartition(':')[2]}/sandbox"
        finally:
            proc.terminate()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            proc.stdout.close()  # type: ignore[union-attr]
        err.seek(0)
        text = err.read()
    counts = SERVED.search(text)
    if proc.returncode != 0 or counts is None:
        raise SystemExit(f"serve-ocip exited {proc.returncode}:\n{text[-2000:]}")
    phase.peer_cpu = usage.ru_utime + usage.ru_stime
    phase.documents, phase.requests = int(counts.group(1)), int(counts.group(2))


def over_ocip(
    args: Sequence[str], database: Path, cwd: Path, env: dict[str, str], expect: Sequence[int]
) -> Phase:
    phase = Phase(Run(0.0, 0.0, ""))
    with peer(database, cwd, env, phase) as url:
        phase.client = run(onenet_argv(*args, "--backend", url), cwd, env, expect)
    return phase


def settle(site: Path, backend: str, cwd: Path, env: dict[str, str]) -> None:
    """Activate every number, as the carrier would, so a second apply converges."""
    activate = ("sandbox", "activate", "--site", SITE, "--all", "--backend", backend)
    run(onenet_argv(*activate), cwd, env, (0,))


def applied(run_: Run) -> int:
    found = re.search(r"Apply: (\d+) applied", run_.printed)
    if found is None:
        raise SystemExit(f"no apply summary in:\n{run_.printed[-2000:]}")
    return int(found.group(1))


def targets(apply_cpu_ms: float, plan_cpu_ms: float) -> list[Goal]:
    return [
        Goal("client CPU ms per request, apply over OCI-P", apply_cpu_ms, TARGET_CPU_MS),
        Goal("client CPU ms per request, no-change plan over OCI-P", plan_cpu_ms, TARGET_CPU_MS),
    ]


def report(name: str, phase: Phase, direct: Run, users: int) -> None:
    """users/s is per second of the whole process, the groups' share of it included."""
    wall = phase.client.seconds
    print(f"{name}: {wall:.1f} s over OCI-P, {direct.seconds:.1f} s on the sandbox directly "
          f"(ratio {wall / direct.seconds:.1f})")  # fmt: skip
    print(
        f"  {users / wall:,.0f} users/s | {phase.requests:,} requests "
        f"= {phase.requests / max(users, 1):.2f} per user | {phase.documents:,} documents "
        f"= {phase.documents / wall:,.0f} documents/s, {phase.requests / wall:,.0f} requests/s"
    )
    print(
        f"  CPU per request: client {phase.per_request_ms(phase.client.cpu):.3f} ms "
        f"({phase.client.cpu:.1f} s), peer {phase.per_request_ms(phase.peer_cpu):.3f} ms "
        f"({phase.peer_cpu:.1f} s); client CPU on the sandbox directly {direct.cpu:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, help="groups in the site (default: users / 5)")
    add_check_option(parser)
    args = parser.parse_args()
    if args.groups is None:
        args.groups = args.users // 5
    compile_package()
    with scratch_dir() as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, **LOGIN, "ONENET_LOCK_DIR": str(tmp / "locks")}
        env.pop("ONENET_OCIP_PEER_FAULTS", None)
        env.pop("ONENET_BACKEND", None)
        site = write_site(tmp, args.users, args.groups)
        direct_db, peer_db = tmp / "direct.db", tmp / "peer.db"
        work = {name: tmp / name for name in ("direct", "ocip")}
        for path in work.values():
            path.mkdir()
        apply_args, plan_args = (
            ("apply", str(site), "--yes"),
            ("plan", str(site), "--detailed-exitcode"),
        )
        direct = ("--backend", f"sandbox:{direct_db}")
        floors: dict[str, list[float]] = {}  # the site file's, between the runs
        floor_samples(site, floors)
        direct_apply = run(onenet_argv(*apply_args, *direct), work["direct"], env, (0, 3))
        first = over_ocip(apply_args, peer_db, work["ocip"], env, (0, 3))
        floor_samples(site, floors)
        for backend, path in (
            (f"sandbox:{direct_db}", work["direct"]),
            (f"sandbox:{peer_db}", work["ocip"]),
        ):
            settle(site, backend, path, env)
        run(onenet_argv(*apply_args, *direct), work["direct"], env, (0,))
        over_ocip(apply_args, peer_db, work["ocip"], env, (0,))
        direct_plan = run(onenet_argv(*plan_args, *direct), work["direct"], env, (0,))
        plan = over_ocip(plan_args, peer_db, work["ocip"], env, (0,))
        floor_samples(site, floors)
    print(
        f"{args.users:,} users (5 in 6 with a desk phone) and {args.groups:,} groups "
        "over the loopback peer"
    )
    actions = applied(first.client)
    print(f"  the first apply carried out {actions:,} actions = "
          f"{actions / first.client.seconds:,.0f} actions/s "
          f"({applied(direct_apply):,} on the sandbox directly)")  # fmt: skip
    report("apply from empty", first, direct_apply, args.users)
    report("no-change plan (all activated)", plan, direct_plan, args.users)
    for line in [
        *floor_lines("the apply over OCI-P", first.client.seconds, floors),
        *floor_lines("the no-change plan over OCI-P", plan.client.seconds, floors),
    ]:
        print(line)
    conclude(
        targets(first.per_request_ms(first.client.cpu), plan.per_request_ms(plan.client.cpu)),
        args.check,
    )


if __name__ == "__main__":
    main()
