"""Mutation testing: plant one small bug at a time and check that a test fails.

A mutant is the package with one syntactic change (a comparison flipped, a
statement removed, ...). It is written into a throw-away copy of the project, so
an interrupted run never leaves a bug in the working tree, and only the test
files that exercise the module run against it (`-x`, one process at a time). A
test failure or a timeout kills the mutant; a mutant that passes every test
survives and is either a missing test or an equivalent change (listed, with a
reason, in tools/mutation-equivalent.txt and left out of the ratio).

    python3 -m tools.mutate gates swaps        # sampled, seeded: repeatable
    python3 -m tools.mutate lock --sample 0    # every mutant of the module

Results go to benchmarks/out/mutation.json (git-ignored), one entry per module.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "onenet_apply"
EQUIVALENT = ROOT / "tools" / "mutation-equivalent.txt"
REPORT = ROOT / "benchmarks" / "out" / "mutation.json"

# Each module's tests (files or node ids under tests/), the quickest and most direct
# first (`-x` stops at the first kill). Slow tests (property tests, kill loops) are left
# out so that a module's run takes minutes.
TESTS: dict[str, list[str]] = {
    "gates": [
        "test_gates.py",
        "test_planner_rules.py",
        "test_planner_edge_cases.py",
        "test_cli_apply.py",
        "test_saved_plans.py",
    ],
    "swaps": [
        "test_swaps.py",
        "test_planner_edge_cases.py",
        "test_planner_rules.py",
        "test_cli_plan.py",
        "test_deactivation_without_transfer.py",
    ],
    "licences": [
        "test_licences.py",
        "test_planner_circles.py",
        "test_cli_licences.py",
        "test_planner_edge_cases.py",
    ],
    "ordering": [
        "test_ordering_rules.py",
        "test_ordering.py",
        "test_planner_circles.py",
        "test_planner_references.py",
        "test_planner_edge_cases.py",
        "test_planner_rules.py",
        "test_deactivation_without_transfer.py",
        "test_cli_licences.py",
        "test_cli_plan.py",
    ],
    "planner": [
        "test_planner_drafts.py",
        "test_planner_rules.py",
        "test_planner_edge_cases.py",
        "test_planner_references.py",
        "test_planner_unmanaged.py",
        "test_deactivation_without_transfer.py",
        "test_cli_licences.py",
        "test_cli_plan.py",
    ],
    "members": [
        "test_member_lists.py",
        "test_planner_rules.py",
        "test_planner_edge_cases.py",
        "test_planner_circles.py",
        "test_planner_unmanaged.py",
        "test_deactivation_without_transfer.py",
        "test_cli_plan.py",
    ],
    "credentials": [
        "test_credentials.py",
        "test_credentials_sink.py",
        "test_credentials_failures.py",
        "test_cli_credentials.py",
        "test_sandbox_credentials.py",
    ],
    "lock": [
        "test_lock_record.py",
        "test_lock_renewal.py",
        "test_sandbox_lease.py",
        "test_sandbox_process.py::test_second_locker_waits_for_release_then_proceeds",
        "test_sandbox_process.py::test_lock_timeout_names_the_holder",
        "test_sandbox_process.py::test_a_dead_holders_lock_is_recovered",
        "test_sandbox_process.py::test_a_reused_pid_is_not_mistaken_for_the_holder",
    ],
    "consistency": [
        "test_sandbox_consistency.py",
        "test_sandbox_rules.py",
        "test_sandbox_batches.py",
    ],
    "applier": [
        "test_applier_loop.py",
        "test_safety_promises.py",
        "test_saved_check.py",
        "test_cli_apply.py",
        "test_sandbox_batches.py",
        "test_cli_failed.py",
        "test_saved_plans.py",
        "test_apply_faults.py",
    ],
    "validate": ["test_validate_values.py", "test_validate_fixtures.py", "test_cli_validate.py"],
    "cross_checks": ["test_validate_values.py", "test_validate_fixtures.py", "test_cli_validate.py"],
    "schema": ["test_validate_values.py", "test_validate_fixtures.py", "test_schema.py"],
    "users": [
        "test_sandbox_user_refusals.py",
        "test_sandbox_rules.py",
        "test_sandbox_direct_calls.py",
        "test_sandbox_lifecycle.py",
        "test_sandbox_values.py",
        "test_sandbox_group_refusals.py",
    ],
    "groups": [
        "test_sandbox_group_refusals.py",
        "test_sandbox_rules.py",
        "test_sandbox_direct_calls.py",
        "test_sandbox_lifecycle.py",
        "test_sandbox_values.py",
        "test_sandbox_user_refusals.py",
    ],
}

PATHS: dict[str, str] = {
    "validate": "sitefile/validate.py",
    "schema": "sitefile/schema.py",
    "cross_checks": "sitefile/cross_checks.py",
    "planner": "planning/planner.py",
    "members": "planning/members.py",
    "ordering": "planning/ordering.py",
    "licences": "planning/licences.py",
    "swaps": "planning/swaps.py",
    "gates": "planning/gates.py",
    "applier": "apply/applier.py",
    "credentials": "apply/credentials.py",
    "lock": "backends/sandbox/lock.py",
    "consistency": "backends/sandbox/consistency.py",
    "users": "backends/sandbox/users.py",
    "groups": "backends/sandbox/groups.py",
}

COMPARE_FLIPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
DELETABLE = (ast.Raise, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Continue, ast.Return)


@dataclass(frozen=True)
class Mutant:
    """One planted bug: where, which operator, the code before and after."""

    key: str  # module:scope:operator#n, stable when unrelated code moves
    line: int
    operator: str
    original: str
    replacement: str
    start: tuple[int, int]  # (line, col) of the replaced source span
    end: tuple[int, int]

    @property
    def mutated(self) -> str:
        return _short(self.replacement)


@dataclass
class Outcome:
    key: str
    line: int
    operator: str
    original: str
    mutated: str
    status: str  # killed, timeout, survived, equivalent
    seconds: float


def _short(text: str, limit: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _replacements(node: ast.AST, in_loop: bool, top_level: bool) -> Iterator[tuple[str, str]]:
    """(operator, replacement source) for each mutation of one node."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            flip = COMPARE_FLIPS.get(type(op))
            if flip is None:
                continue
            ops = [*node.ops]
            ops[i] = flip()
            new = ast.Compare(left=node.left, ops=ops, comparators=node.comparators)
            yield f"{type(op).__name__}->{flip.__name__}", f"({ast.unparse(new)})"
    elif isinstance(node, ast.BoolOp):
        flip = ast.Or if isinstance(node.op, ast.And) else ast.And
        new = ast.BoolOp(op=flip(), values=node.values)
        yield f"{type(node.op).__name__}->{flip.__name__}", f"({ast.unparse(new)})"
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "not-removed", f"({ast.unparse(node.operand)})"
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        yield "int+1", repr(node.value + 1)
        yield "int-1", repr(node.value - 1)
    if isinstance(node, ast.stmt) and not top_level:
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                yield "return-negated", f"return {not value.value}"
            elif not (isinstance(value, ast.Constant) and value.value is None):
                yield "return-None", "return None"
        if isinstance(node, DELETABLE) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await)
        ):
            name = "Call" if isinstance(node, ast.Expr) else type(node).__name__
            yield f"delete-{name}", "pass"
        if in_loop and isinstance(node, ast.Continue):
            yield "continue->break", "break"
            yield "continue->return", "return"
        if in_loop and isinstance(node, ast.Break):
            yield "break->continue", "continue"
        if in_loop and isinstance(node, ast.Return):
            yield "return->continue", "continue"


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")


def mutants(source: str, module: str) -> list[Mutant]:
    """Every mutant of one module's source, in source order."""
    tree = ast.parse(source)
    found: list[Mutant] = []
    seen: Counter[str] = Counter()

    def visit(node: ast.AST, scope: str, in_loop: bool, top_level: bool) -> None:
        if _is_type_checking(node) or isinstance(node, ast.JoinedStr):
            return  # imports for type hints; f-string parts have no reliable positions
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # docstring
        if hasattr(node, "lineno") and not isinstance(node, ast.FunctionDef | ast.ClassDef):
            for operator, text in _replacements(node, in_loop, top_level):
                base = f"{module}:{scope}:{operator}"
                key = f"{base}#{seen[base]}"
                seen[base] += 1
                original = ast.get_source_segment(source, node) or ""
                found.append(
                    Mutant(
                        key=key,
                        line=node.lineno,
                        operator=operator,
                        original=_short(original),
                        replacement=text,
                        start=(node.lineno, node.col_offset),
                        end=(node.end_lineno or node.lineno, node.end_col_offset or 0),
                    )
                )
        for field, value in ast.iter_fields(node):
            if field in {"annotation", "returns", "decorator_list"}:
                continue
            children = value if isinstance(value, list) else [value]
            for child in children:
                if not isinstance(child, ast.AST):
                    continue
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                    name = getattr(child, "name", "<lambda>")
                    inner = name if scope == "<module>" else f"{scope}.{name}"
                    visit(child, inner, False, False)
                elif isinstance(child, ast.ClassDef):
                    inner = child.name if scope == "<module>" else f"{scope}.{child.name}"
                    visit(child, inner, False, True)
                else:
                    loop = in_loop or (isinstance(node, ast.For | ast.While) and field == "body")
                    top = top_level and isinstance(node, ast.Module | ast.ClassDef)
                    visit(child, scope, loop, top if isinstance(child, ast.stmt) else top_level)

    visit(tree, "<module>", False, True)
    return found


def apply(source: str, mutant: Mutant) -> str:
    """The source with the mutant's span replaced by its mutated code."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode()))
    data = source.encode()
    start = offsets[mutant.start[0] - 1] + mutant.start[1]
    end = offsets[mutant.end[0] - 1] + mutant.end[1]
    return (data[:start] + mutant.replacement.encode() + data[end:]).decode()


def load_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """Reviewed equivalent mutants: `KEY  code  -- reason`, one a line."""
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key = line.split()[0]
        found[key] = line.partition(" -- ")[2].strip()
    return found


def copy_project(target: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".git",
        ".venv",
        "__pycache__",
        ".pytest_cache",
        ".hypothesis",
        ".ruff_cache",
        "out",
        "*.egg-info",
        ".onenet",
    )
    shutil.copytree(ROOT, target, symlinks=True, ignore=ignore, dirs_exist_ok=True)


def run_tests(copy: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    """'passed', 'failed' or 'timeout', and the seconds it took."""
    env = dict(os.environ)
    env.update(PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1", HYPOTHESIS_PROFILE="ci")
    env.pop("CI", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        *(f"tests/{name}" for name in tests),
    ]
    began = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=copy,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - began
    finally:  # a timeout, Ctrl-C or SIGTERM leaves no test process behind
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return ("passed" if code == 0 else "failed"), time.monotonic() - began


def select(found: list[Mutant], sample: int, seed: int) -> list[Mutant]:
    if sample <= 0 or sample >= len(found):
        return found
    chosen = random.Random(seed).sample(found, sample)
    return sorted(chosen, key=lambda m: (m.line, m.key))


def run_module(
    module: str,
    sample: int,
    seed: int,
    timeout: float | None,
    echo: Callable[[str], None],
    tests: list[str] | None = None,
    only: set[str] | None = None,
) -> dict[str, object]:
    """Run a module's sample (or only the mutants named in `only`)."""
    relative = f"{PACKAGE}/{PATHS.get(module, module + '.py')}"
    source = (ROOT / relative).read_text()
    equivalent = load_equivalent()
    found = mutants(source, module)
    chosen = select(found, sample, seed) if only is None else [m for m in found if m.key in only]
    tests = tests or TESTS[module]
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="onenet-mutants-") as tmp:
        copy = Path(tmp)
        copy_project(copy)
        target = copy / relative
        result, baseline = run_tests(copy, tests, timeout=600)
        if result != "passed":
            raise SystemExit(f"{module}: the tests fail without any mutant ({', '.join(tests)})")
        limit = timeout or max(30.0, 3 * baseline)
        echo(f"{module}: {len(chosen)} mutants, baseline {baseline:.1f}s, timeout {limit:.0f}s")
        for mutant in chosen:
            if mutant.key in equivalent:
                outcomes.append(Outcome(**_fields(mutant), status="equivalent", seconds=0.0))
                continue
            mutated = apply(source, mutant)
            compile(mutated, relative, "exec")
            target.write_text(mutated)
            try:
                result, seconds = run_tests(copy, tests, timeout=limit)
            finally:
                target.write_text(source)
            status = {"passed": "survived", "failed": "killed"}.get(result, result)
            outcomes.append(Outcome(**_fields(mutant), status=status, seconds=round(seconds, 1)))
            if status == "survived":
                echo(
                    f"  SURVIVED {relative}:{mutant.line} {mutant.key}: {mutant.original!r} -> "
                    f"{mutant.mutated!r}"
                )
    entry: dict[str, object] = {
        "path": relative,
        "seed": seed,
        "sample": sample,
        "tests": tests,
        "baseline_seconds": round(baseline, 1),
        "mutants": [asdict(o) for o in outcomes],
    }
    return summarise(entry, module, echo)


def summarise(entry: dict, module: str, echo: Callable[[str], None]) -> dict:
    """Count an entry's outcomes: a timeout is a kill, equivalents are left out."""
    counts = Counter(m["status"] for m in entry["mutants"])
    killed = counts["killed"] + counts["timeout"]
    scored = killed + counts["survived"]
    ratio = killed / scored if scored else 1.0
    echo(
        f"{module}: killed {killed}/{scored} ({100 * ratio:.1f}%), "
        f"{counts['equivalent']} equivalent, {counts['timeout']} by timeout"
    )
    entry.update(
        killed=killed,
        survived=counts["survived"],
        equivalent=counts["equivalent"],
        ratio=round(ratio, 4),
    )
    return entry


def recheck(entry: dict, module: str, args: argparse.Namespace) -> dict:
    """Run the entry's survivors again (after new tests) and update it; the first
    counts stay under "before"."""
    keys = {m["key"] for m in entry["mutants"] if m["status"] == "survived"}
    entry.setdefault("before", {k: entry[k] for k in ("killed", "survived", "equivalent", "ratio")})
    if not keys:
        return summarise(entry, module, print)
    fresh = run_module(module, 0, args.seed, args.timeout, print, args.tests, keys)
    outcome = {m["key"]: m for m in fresh["mutants"]}
    entry["mutants"] = [outcome.get(m["key"], m) for m in entry["mutants"]]
    entry["tests"] = fresh["tests"]
    return summarise(entry, module, print)


def _fields(mutant: Mutant) -> dict[str, object]:
    return {
        "key": mutant.key,
        "line": mutant.line,
        "operator": mutant.operator,
        "original": mutant.original,
        "mutated": mutant.mutated,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="+", choices=sorted(TESTS), metavar="MODULE")
    parser.add_argument("--sample", type=int, default=40, help="mutants per module (0: all)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default 3x baseline)")
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--tests", nargs="+", help="test files to run instead of the module's")
    parser.add_argument(
        "--survivors", action="store_true", help="re-run only the last report's survivors"
    )
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up the copy and the tests
    if args.list:
        for module in args.modules:
            source = (ROOT / PACKAGE / PATHS.get(module, module + ".py")).read_text()
            for m in select(mutants(source, module), args.sample, args.seed):
                print(f"{m.line:4} {m.key}: {m.original!r} -> {m.mutated!r}")
        return 0
    report = json.loads(args.report.read_text()) if args.report.exists() else {}
    survivors = 0
    for module in args.modules:
        if args.survivors and module in report:
            entry = recheck(report[module], module, args)
        else:
            entry = run_module(module, args.sample, args.seed, args.timeout, print, args.tests)
        survivors += int(entry["survived"])  # type: ignore[call-overload]
        report[module] = entry
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=1) + "\n")
    print(f"report: {args.report}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
