"""Benchmark: what the shared state store costs an apply, `onenet apply` with and
without `ONENET_STATE`.

    python -m benchmarks.bench_state [--users 10000] [--groups 2000] [--runs 3] [--check]

Whole processes: `onenet apply SITE --yes` of a generated site onto a fresh empty
sandbox, with the store (`ONENET_STATE` naming a PostgreSQL schema of the
benchmark's own, its tables set up beforehand, as after a team's first apply) and
without, in alternation (with, without, without, with, ...: ABBA, so an effect of
going first falls on both alike), RUNS of each. The cost with the store is the lock
(a connection, the schema check, the advisory lock, its row), the run's row and, per
batch, a look at the lock's connection (a round trip at most once a second) and one
statement of the batch's history, which the server works on while the next batch
runs. Reported: the ratio of wall times with/without (the median of each
back-to-back pair's ratio), and from the medians of wall and CPU time (the client's
own rusage; the server's work shows in the wall time only) the overhead in ms per
apply and in µs per action; then the same for a tiny site, whose overhead is the
store's fixed cost per apply. Target: at most 5% slower (ratio <= 1.05) at the given
size; with `--check` a missed target exits 1.

The server is `$ONENET_TEST_POSTGRES` (a superuser's URL) when set, else a
throwaway cluster started for the run (tools/throwaway_postgres.py) and stopped
after it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from benchmarks.bench_ocip import Run, applied, run
from benchmarks.common import (
    Goal,
    conclude,
    floor_lines,
    floor_samples,
    onenet_argv,
    scratch_dir,
    site_arguments,
    write_site,
)

SERVER_ENV = "ONENET_TEST_POSTGRES"
TARGET_RATIO = 1.05
TINY = (10, 2)  # users, groups: a site whose apply is nearly all fixed cost


@dataclass(frozen=True)
class Comparison:
    """Medians of the applies with the store and without, at one size."""

    actions: int
    wall_with: float
    wall_without: float
    cpu_with: float
    cpu_without: float
    pair_ratios: tuple[float, ...]  # each apply with the store / the one without just after
    floors: dict[str, list[float]]  # the site file's floors, alternated with the applies

    @property
    def ratio(self) -> float:
        """The median of the pairs' ratios: a pair ran back to back, so a load that
        comes and goes on the machine moves both of its applies alike."""
        return statistics.median(self.pair_ratios)

    @property
    def overhead_ms(self) -> float:
        return 1000 * (self.wall_with - self.wall_without)

    def per_action_us(self, seconds: float) -> float:
        return 1e6 * seconds / max(self.actions, 1)

    def describe(self, name: str) -> list[str]:
        cpu_ms = 1000 * (self.cpu_with - self.cpu_without)
        return [
            f"{name}: {self.actions:,} actions, wall {self.wall_with:.2f} s with the store, "
            f"{self.wall_without:.2f} s without: ratio {self.ratio:.3f} (median of the "
            f"pairs: {', '.join(f'{r:.3f}' for r in self.pair_ratios)})",
            f"  overhead {self.overhead_ms:,.0f} ms per apply = "
            f"{self.per_action_us(self.overhead_ms / 1000):,.1f} µs per action (wall); "
            f"client CPU {self.cpu_with:.2f} s vs {self.cpu_without:.2f} s: "
            f"{cpu_ms:,.0f} ms = {self.per_action_us(cpu_ms / 1000):,.1f} µs per action",
            *floor_lines("the apply without the store", self.wall_without, self.floors),
        ]


def targets(ratio: float) -> list[Goal]:
    return [Goal("onenet apply with/without the state store, wall time", ratio, TARGET_RATIO)]


@contextmanager
def postgres_server() -> Iterator[str]:
    """A superuser's URL: $ONENET_TEST_POSTGRES, else a throwaway cluster of the
    run's own (stopped and removed after it)."""
    from tools import throwaway_postgres as throwaway

    named = os.environ.get(SERVER_ENV)
    if named:
        yield named
        return
    if not throwaway.available():
        raise SystemExit(
            f"bench_state needs PostgreSQL: set ${SERVER_ENV} to a superuser's URL, or "
            "install the PostgreSQL server binaries (initdb, pg_ctl, psql) for a "
            "throwaway cluster"
        )
    directory = Path(tempfile.mkdtemp(prefix="onenet-bench-pg-"))
    try:
        try:
            server = throwaway.start(directory)
        except throwaway.ThrowawayError as e:
            raise SystemExit(f"bench_state: no throwaway PostgreSQL cluster: {e}") from None
        yield server.url
    finally:
        throwaway.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def store_schema(server: str) -> Iterator[str]:
    """The URL of a new schema (its search_path) with the store's tables set up;
    the schema is dropped afterwards."""
    import psycopg
    from psycopg import sql

    from onenet_apply.store.schema import ensure_schema

    name = f"bench_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as e:
        raise SystemExit(f"bench_state: the PostgreSQL server does not answer: {e}") from None
    with admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        try:
            url = in_schema(server, name)
            with psycopg.connect(url, autocommit=True) as conn:
                ensure_schema(conn, name)
            yield url
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def in_schema(url: str, schema: str) -> str:
    """`url` with its search_path set to `schema`."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"{query.get('options', '')} -csearch_path={schema}".strip()
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def compare(site: Path, state_url: str, runs: int, workdir: Path) -> Comparison:
    """RUNS applies of `site` with the store and RUNS without, alternated, each onto a
    fresh sandbox in a directory of its own."""
    without = {k: v for k, v in os.environ.items() if k not in ("ONENET_STATE", "ONENET_BACKEND")}
    envs = {"with": {**without, "ONENET_STATE": state_url}, "without": without}
    samples: dict[str, list[Run]] = {name: [] for name in envs}
    floors: dict[str, list[float]] = {}
    for attempt in range(runs):
        # ABBA: which of the pair goes first alternates, so whatever the machine does
        # to the first of two runs (caches dropped by the floors just before) falls on
        # each alike
        order = list(envs.items()) if attempt % 2 == 0 else list(envs.items())[::-1]
        for name, env in order:
            cwd = workdir / f"{site.stem}-{name}-{attempt}"
            cwd.mkdir()
            samples[name].append(run(onenet_argv("apply", str(site), "--yes"), cwd, env, (0, 3)))
        floor_samples(site, floors)
    counts = {applied(r) for runs_ in samples.values() for r in runs_}
    if len(counts) != 1:
        raise SystemExit(f"the applies carried out different numbers of actions: {counts}")

    def median(name: str, what: str) -> float:
        return statistics.median(getattr(r, what) for r in samples[name])

    pairs = zip(samples["with"], samples["without"], strict=True)
    return Comparison(
        counts.pop(), median("with", "seconds"), median("without", "seconds"),
        median("with", "cpu"), median("without", "cpu"),
        tuple(w.seconds / wo.seconds for w, wo in pairs), floors,
    )  # fmt: skip


def main() -> None:
    args = site_arguments(__doc__, runs=3)
    with scratch_dir() as tmp_name, postgres_server() as server, store_schema(server) as url:
        tmp = Path(tmp_name)
        big = write_site(tmp, args.users, args.groups, "site.yaml")
        tiny = write_site(tmp, *TINY, "tiny.yaml")
        sized = compare(big, url, args.runs, tmp)
        fixed = compare(tiny, url, args.runs, tmp)
    print(
        f"onenet apply onto an empty sandbox with ONENET_STATE (PostgreSQL) and without, "
        f"alternated, median of {args.runs}"
    )
    for line in sized.describe(f"{args.users:,} users and {args.groups:,} groups"):
        print(line)
    for line in fixed.describe(f"tiny site ({TINY[0]} users, {TINY[1]} groups), fixed cost"):
        print(line)
    conclude(targets(sized.ratio), args.check)


if __name__ == "__main__":
    main()
