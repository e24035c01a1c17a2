"""Benchmarks' `--check`: a missed target fails the process (the benchmarks themselves
are too heavy for the suite; their verdicts are checked here with made-up figures)."""

from __future__ import annotations

import re
import sys

import pytest

from benchmarks import (
    bench_apply,
    bench_memory,
    bench_ocip,
    bench_plan,
    bench_sandbox,
    bench_startup,
    bench_state,
    bench_validate,
)
from benchmarks.common import FLOOR, Goal, Medians, conclude
from tests.pg_kit import PgAdmin
from tools import throwaway_postgres as throwaway


def verdict(goals: list[Goal], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The exit code and output of `conclude` in `--check` mode."""
    try:
        conclude(goals, check=True)
    except SystemExit as stop:
        return (stop.code if isinstance(stop.code, int) else 1), capsys.readouterr().out
    return 0, capsys.readouterr().out


def plan_figures(
    no_change: float, from_empty: float, cpu_growth: float = 10.0, small_no_change: float = 1.9
) -> dict[int, Medians]:
    """bench_plan figures at 1,000, 10,000 and 100,000 users: wall-time ratios to floors
    of 1 s at every size, the CPU time of both plans `cpu_growth` times 10,000's at 100,000."""

    def figures(no_change: float, from_empty: float, cpu: float) -> Medians:
        wall = {FLOOR: 1.0, bench_plan.NO_CHANGE: no_change, bench_plan.FROM_EMPTY: from_empty}
        return Medians(wall, {name: cpu for name in wall}, {name: 100.0 for name in wall})

    return {
        1_000: figures(small_no_change, 9.0, 0.1),
        10_000: figures(1.2, 1.5, 1.0),
        100_000: figures(no_change, from_empty, cpu_growth),
    }


@pytest.mark.parametrize(
    ("goals", "missed"),
    [
        (bench_validate.targets(1.0), None),
        (bench_validate.targets(1.01), "onenet validate / floor time ratio"),
        (bench_sandbox.targets(2000, 0.5), None),
        (bench_sandbox.targets(1999, 0.1), "sandbox user creations/s"),
        (bench_sandbox.targets(5000, 0.51), "cold read of a site with groups / floor"),
        (bench_apply.targets(3000), None),
        (bench_apply.targets(2999), "onenet apply actions/s"),
        (bench_ocip.targets(1.0, 0.99), None),
        (bench_ocip.targets(1.01, 0.5), "client CPU ms per request, apply over OCI-P"),
        (bench_ocip.targets(0.5, 1.01), "client CPU ms per request, no-change plan"),
        (bench_state.targets(1.05), None),
        (bench_state.targets(1.051), "onenet apply with/without the state store, wall time"),
        (bench_plan.targets(plan_figures(1.3, 1.6, 10.5)), None),
        (bench_plan.targets(plan_figures(1.31, 1.6)), "no-change plan / floor at 100,000"),
        (bench_plan.targets(plan_figures(1.3, 1.61)), "from-empty plan / floor at 100,000"),
        (
            bench_plan.targets(plan_figures(1.3, 1.6, small_no_change=2.01)),
            "no-change plan / floor at 1,000",
        ),
        (
            bench_plan.targets(plan_figures(1.3, 1.6, cpu_growth=10.51)),
            "CPU time growth 10,000 -> 100,000",
        ),
        (bench_memory.targets(600), None),
        (bench_memory.targets(601), "peak MB of onenet plan"),
        (bench_startup.targets({"onenet --version": 2.0, "onenet --help": 1.5}), None),
        (
            bench_startup.targets({"onenet --version": 1.5, "onenet --help": 2.01}),
            "onenet --help / python",
        ),
    ],
)
def test_check_fails_exactly_when_a_target_is_missed(
    goals: list[Goal], missed: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = verdict(goals, capsys)
    assert len(out.splitlines()) == len(goals)  # every target has its verdict line
    if missed is None:
        assert code == 0
        assert "NOT met" not in out
    else:
        assert code == 1
        assert [line for line in out.splitlines() if "NOT met" in line] == [
            line for line in out.splitlines() if missed in line
        ]


def test_without_check_a_missed_target_is_reported_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    conclude(bench_apply.targets(10), check=False)
    assert "onenet apply actions/s: 10.00 (target >= 3,000: NOT met)" in capsys.readouterr().out


def test_a_benchmark_run_with_check_exits_1_on_its_missed_target(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real (tiny) run of bench_validate against a target no run can meet: `--check`
    makes it fail, naming the target; without `--check` it only reports."""
    monkeypatch.setattr(bench_validate, "TARGET", 0.0)
    argv = ["bench_validate", "--users", "10", "--groups", "2", "--runs", "1"]
    monkeypatch.setattr(sys, "argv", [*argv, "--check"])
    with pytest.raises(SystemExit) as stop:
        bench_validate.main()
    assert stop.value.code == "1 of 1 targets missed: onenet validate / floor time ratio"
    assert "(target <= 0: NOT met)" in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", argv)
    bench_validate.main()
    assert "(target <= 0: NOT met)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "module,argv",
    [
        (bench_plan, ["--sizes", "20", "--runs", "1"]),
        (bench_apply, ["--users", "20", "--groups", "2", "--runs", "1"]),
        (bench_sandbox, ["--users", "20", "--runs", "1"]),
        (bench_ocip, ["--users", "20", "--groups", "4"]),
        (bench_startup, ["--runs", "1"]),
        (bench_memory, ["--users", "20", "--runs", "1"]),
    ],
    ids=["plan", "apply", "sandbox", "ocip", "startup", "memory"],
)
def test_every_benchmark_still_runs_at_a_tiny_size(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], module, argv
) -> None:
    """The benchmarks drive the real commands: a change of the CLI's contract (such as
    plan refusing a missing sandbox) must show here, not months later in a release."""
    monkeypatch.setattr(sys, "argv", [module.__name__, *argv])
    module.main()  # no --check: at this size the targets mean nothing, the run does
    assert "met" in capsys.readouterr().out


def test_the_limited_apply_benchmark_gives_every_timed_site_its_limits_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bench_apply --limited: the site of every sandbox it applies to (the counting
    run's and each timed run's) owns limited licences of every catalogue name."""
    from onenet_apply.backends.sandbox import SandboxBackend
    from onenet_apply.cli.sandbox import MAX_LICENCES
    from onenet_apply.model.catalogue import default_catalogue

    owned: list[dict[str, int] | None] = []
    limit_licences = bench_apply.limit_licences

    def limiting(workdir):
        limit_licences(workdir)
        backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
        owned.append(backend.settings(bench_apply.SITE_ID)["licences"])
        backend.close()

    monkeypatch.setattr(bench_apply, "limit_licences", limiting)
    argv = ["bench_apply", "--users", "20", "--groups", "2", "--runs", "2", "--limited"]
    monkeypatch.setattr(sys, "argv", argv)
    bench_apply.main()
    assert "the site owns limited licences of every package and option" in capsys.readouterr().out
    catalogue = default_catalogue()
    every = dict.fromkeys(catalogue.packages | catalogue.options, MAX_LICENCES)
    assert owned == [every, every, every]


def test_the_delete_apply_benchmark_deletes_every_user_and_group_of_a_held_site(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bench_apply --delete: each timed sandbox holds the 20 users and 2 groups first,
    and the apply deletes all 22; the sandbox left behind holds none."""
    from onenet_apply.backends.sandbox import SandboxBackend
    from onenet_apply.model.vocabulary import GROUP_TYPES

    held: list[int] = []
    left: list[int] = []
    copy_sandbox, run_process = bench_apply.copy_sandbox, bench_apply.run_process

    def sites_of(workdir) -> int:
        backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
        state = backend.read_state(bench_apply.SITE_ID)
        backend.close()
        return len(state.users) + sum(len(state.section(t)) for t in GROUP_TYPES)

    def copying(seeded, workdir):
        copy_sandbox(seeded, workdir)
        held.append(sites_of(workdir))

    def running(argv, workdir, *rest, **kw):
        sample = run_process(argv, workdir, *rest, **kw)
        if "apply" in argv:
            left.append(sites_of(workdir))
        return sample

    monkeypatch.setattr(bench_apply, "copy_sandbox", copying)
    monkeypatch.setattr(bench_apply, "run_process", running)
    argv = ["bench_apply", "--users", "20", "--groups", "2", "--runs", "2", "--delete"]
    monkeypatch.setattr(sys, "argv", argv)
    bench_apply.main()
    out = capsys.readouterr().out
    assert "the sandbox holds the site, activated: every user and group is deleted" in out
    assert "\n  22 actions, in transactions of" in out
    assert held == [22, 22, 22] and left == [0, 0]


def test_the_state_benchmark_runs_at_a_tiny_size_against_the_tests_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], pg_server: str
) -> None:
    """bench_state applies with the store and without, alternated, on the server
    $ONENET_TEST_POSTGRES names, and leaves no schema of its own behind."""
    monkeypatch.setenv(bench_state.SERVER_ENV, pg_server)
    monkeypatch.setenv("ONENET_STATE", "postgresql://nowhere.invalid/ignored")  # not the runs'
    schemas = "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bench_%'"
    before = PgAdmin(pg_server).value(schemas)
    argv = ["bench_state", "--users", "20", "--groups", "2", "--runs", "2"]
    monkeypatch.setattr(sys, "argv", argv)
    bench_state.main()
    out = capsys.readouterr().out
    assert "20 users and 2 groups: " in out and "tiny site (10 users, 2 groups)" in out
    assert re.search(r"ratio \d+\.\d+ \(median of the pairs: \d\.\d+, \d\.\d+\)", out)
    assert "µs per action" in out and "onenet apply with/without the state store" in out
    assert PgAdmin(pg_server).value(schemas) == before


def test_the_state_benchmark_without_a_server_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(bench_state.SERVER_ENV, raising=False)
    monkeypatch.setattr(throwaway, "available", lambda: False)
    monkeypatch.setattr(sys, "argv", ["bench_state", "--users", "2", "--runs", "1"])
    with pytest.raises(SystemExit) as stop:
        bench_state.main()
    assert str(stop.value.code).startswith(
        "bench_state needs PostgreSQL: set $ONENET_TEST_POSTGRES to a superuser's URL"
    )
