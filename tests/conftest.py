"""Shared helpers: run the real `onenet` entry point in-process or as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from onenet_apply.cli import main
from tests.ocip_kit import sent_documents, xsd_checked  # noqa: F401  (fixtures for OCI-P tests)
from tests.pg_kit import (  # noqa: F401  (fixtures for PostgreSQL tests)
    pg_admin,
    pg_server,
    pg_team,
    pg_team_password,
    pg_team_url,
    pg_url,
    private_pg,
)

# CI runs the same examples every time (a red build is then always reproducible);
# developers get fresh random examples, and `HYPOTHESIS_PROFILE=deep` searches ten
# times harder before a release.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("deep", max_examples=600)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default")
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLE = ROOT / "examples" / "site.yaml"


def example_without_lena() -> str:
    """The example site with user lena removed (so a plan against it deletes her)."""
    text = EXAMPLE.read_text()
    start = text.index("  lena:")
    without_lena = text[:start] + text[text.index("\nhunt_groups:") + 1 :]
    return without_lena.replace("supervisors: [carla, lena]", "supervisors: [carla]")


def scaled(examples: int) -> int:
    """A test's own example count, multiplied under a profile that asks for more."""
    return max(examples, examples * settings().max_examples // 100)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def onenet(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `onenet ARGS...` through the console entry point, in-process."""

    def run(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["onenet", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as stop:
            main()
        captured = capsys.readouterr()
        code = stop.value.code
        return Result(code if isinstance(code, int) else 1, captured.out, captured.err)

    return run


def run_process(*args: str, cwd: Path | None = None, timeout: float = 60) -> Result:
    """Run `python -m onenet_apply ARGS...` in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-m", "onenet_apply", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: it would hide a missing service or package."""
    if not os.environ.get("CI") or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        for report in skipped:
            print(f"\nCI: skipped test counts as a failure: {report.nodeid}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding an empty default sandbox, as after a first apply:
    plan and import read an existing sandbox and refuse a missing one."""
    from onenet_apply.backends.sandbox import SandboxBackend

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONENET_BACKEND", raising=False)
    SandboxBackend(tmp_path / ".onenet" / "sandbox.db").close()
    return tmp_path


# -- coverage: the threshold in pyproject.toml holds for the whole suite -------------
_deselected: list[pytest.Item] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected.extend(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """A run of some of the tests (named files, `-k`, `--lf`) cannot reach the whole
    suite's coverage: it still reports coverage, but only the whole suite must reach
    `fail_under`."""
    config = session.config
    whole = {ROOT, ROOT / "tests"}
    explicit = config.args_source == pytest.Config.ArgsSource.ARGS and any(
        Path(config.invocation_params.dir, arg).resolve() not in whole for arg in config.args
    )
    coverage = config.pluginmanager.get_plugin("_cov")
    if (explicit or _deselected) and coverage is not None and hasattr(coverage, "options"):
        coverage.options.cov_fail_under = None


@pytest.fixture(autouse=True)
def _nothing_written_into_the_checkout() -> Iterator[None]:
    """A test writes in its own temporary directory, never in the checkout: a
    credentials CSV left there by a test would hold passwords next to the code."""
    before = set(os.listdir(ROOT))
    yield
    left = sorted(
        name for name in set(os.listdir(ROOT)) - before if not name.startswith(".coverage")
    )
    assert not left, f"the test left {left} in the checkout {ROOT}"
