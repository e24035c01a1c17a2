"""The command line as a process: Ctrl-C, a closed stdout, durations that are not numbers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from tests.conftest import EXAMPLE, ROOT
from tests.sandbox_kit import SITE


def onenet_process(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "onenet_apply", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_from_a_terminal,
    )


def as_from_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it, however these tests were started: a shell
    starts a background job with SIGINT ignored, and a process that starts so keeps
    ignoring it (rightly: Ctrl-C is not meant for it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_while_importing_exits_130_without_a_traceback(tmp_path: Path) -> None:
    # a stand-in for click, found first on the path, sends SIGINT to its own
    # process in the middle of the command line's imports
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "click.py").write_text(
        "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(30)\n"
    )
    proc = onenet_process(
        "validate", str(EXAMPLE), cwd=tmp_path, env={"PYTHONPATH": f"{shadow}{os.pathsep}{ROOT}"}
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err == "Interrupted.\n"
    assert out == ""


def test_ctrl_c_while_waiting_for_the_lock_exits_130_and_leaves_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    SandboxBackend(db).configure(SITE)
    holder = subprocess.Popen(
        [sys.executable, "-m", "tests.sandbox_worker", "lock", str(db), "60"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        site = tmp_path / "site.yaml"
        site.write_text(EXAMPLE.read_text().replace("id: berlin-hq", f"id: {SITE}"))
        applier = onenet_process(
            "apply",
            str(site),
            "--yes",
            "--lock-timeout",
            "60",
            "--backend",
            f"sandbox:{db}",
            cwd=tmp_path,
        )
        time.sleep(2)  # imported, validated, waiting for the lock
        applier.send_signal(signal.SIGINT)
        _, err = applier.communicate(timeout=30)
        assert applier.returncode == 130, err
        assert "Traceback" not in err
        assert err.strip() == "Interrupted."
        assert SandboxBackend(db).lock_holder(SITE).pid == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_a_reader_that_closes_stdout_early_gets_no_traceback(tmp_path: Path) -> None:
    SandboxBackend(tmp_path / "sandbox.db").close()
    proc = onenet_process("plan", str(EXAMPLE), "--backend", "sandbox:sandbox.db", cwd=tmp_path)
    proc.stdout.close()  # as `| head -0` would, before a line is written
    err = proc.stderr.read()
    assert proc.wait(timeout=30) in (0, 1)
    assert err == ""


def test_a_reader_that_stops_after_one_line_gets_no_traceback(tmp_path: Path) -> None:
    SandboxBackend(tmp_path / "sandbox.db").close()
    shell = subprocess.run(
        f"{sys.executable} -m onenet_apply plan {EXAMPLE} --backend sandbox:sandbox.db | head -1",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert shell.stdout == "onenet plan for site berlin-hq, in the order it runs:\n"
    assert shell.stderr == ""


@pytest.mark.parametrize("option", ["--wait-activation", "--lock-timeout"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "NaN", "1e999", "soon"])
def test_durations_must_be_finite_and_not_negative(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = onenet("apply", str(EXAMPLE), "--yes", "--backend", "sandbox:s.db", option, value)
    assert result.code == 1
    assert f"Invalid value for '{option}': '{value}' is not a number of seconds" in result.err
    assert "a finite number, 0 or more" in result.err
    assert not (tmp_path / "s.db").exists()


def test_credentials_reset_lock_timeout_is_checked_the_same_way(onenet, tmp_path: Path) -> None:
    result = onenet(
        "credentials",
        "reset",
        "--site",
        SITE,
        "--all",
        "--lock-timeout",
        "nan",
        "--backend",
        f"sandbox:{tmp_path / 's.db'}",
    )
    assert result.code == 1
    assert "'nan' is not a number of seconds" in result.err


def test_ctrl_c_during_apply_names_the_credentials_file_and_releases_the_lock(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sandbox.db"
    SandboxBackend(db).close()
    applier = onenet_process(
        "apply",
        str(EXAMPLE),
        "--yes",
        "--wait-activation",
        "120",
        "--credentials-out",
        "c.csv",
        "--backend",
        f"sandbox:{db}",
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline and SandboxBackend(db).read_state("berlin-hq").users == {}
        ):
            time.sleep(0.1)  # until the first batch is committed; then it waits for activations
        time.sleep(0.5)
        applier.send_signal(signal.SIGINT)
        _, err = applier.communicate(timeout=30)
    finally:
        applier.kill()
    assert applier.returncode == 130, err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line][-2:] == [
        "Interrupted after writing 11 desk phone login details to c.csv; keep it safe, it is "
        "written nowhere else.",
        "Interrupted.",
    ]
    assert SandboxBackend(db).lock_record("berlin-hq") is None


def test_ctrl_c_as_the_package_starts_loading_exits_130_without_a_traceback(
    tmp_path: Path,
) -> None:
    """The earliest moment our code runs: the package's first lines. A hook in the
    import system sends SIGINT as soon as onenet_apply itself is loaded, before the
    console module (and its guard) is even found."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os, signal, sys, time\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'onenet_apply.console' or name == 'onenet_apply.__main__':\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "            time.sleep(0.5)\n"
        "        return None\n"
        "sys.meta_path.insert(0, Interrupt())\n"
    )
    proc = onenet_process(
        "validate", str(EXAMPLE), cwd=tmp_path, env={"PYTHONPATH": f"{hook}{os.pathsep}{ROOT}"}
    )
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err, out) == (130, "Interrupted.\n", "")


def test_ctrl_c_as_the_command_exits_changes_neither_its_words_nor_its_code(
    tmp_path: Path,
) -> None:
    """The command has said everything; a Ctrl-C while the interpreter exits (here from
    an exit handler) would print "Exception ignored ... KeyboardInterrupt" or end the
    process by the signal instead of its exit code."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import atexit, os, signal, time\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.2)))\n"
    )
    proc = onenet_process(
        "validate", str(EXAMPLE), cwd=tmp_path, env={"PYTHONPATH": f"{hook}{os.pathsep}{ROOT}"}
    )
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (0, ""), err
    assert out.startswith("examples/site.yaml: site berlin-hq is valid") or "is valid" in out


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        found = []
        for task in tasks:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(child) for child in f.read().split()]
        return found
    except OSError:
        return []


def _parallel_run(tmp_path: Path, command: str) -> tuple[subprocess.Popen[str], Path]:
    """`onenet COMMAND` of a directory of three sites, one big (it keeps a worker busy
    for seconds), in a process group of its own, as a terminal's job; once its three
    workers run."""
    from benchmarks.sitegen import generate

    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "big.yaml").write_text("".join(generate(20_000, 1_000, "big")))
    for n in range(2):
        (sites / f"small-{n}.yaml").write_text("".join(generate(5, 1, f"small-{n}")))
    db = tmp_path / "sandbox.db"
    SandboxBackend(db).close()
    args = ["--jobs", "3", "--backend", f"sandbox:{db}"] + (["--yes"] if command == "apply" else [])
    run = subprocess.Popen(
        [sys.executable, "-m", "onenet_apply", command, str(sites), *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=as_from_a_terminal,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_children(run.pid)) < 3:
        time.sleep(0.02)
    if len(_children(run.pid)) < 3:
        run.kill()
        raise AssertionError("the workers never started")
    return run, db


def test_site_workers_leave_ctrl_c_to_the_parent(tmp_path: Path) -> None:
    """Ctrl-C reaching only the workers changes nothing: the run ends as if none came."""
    run, _ = _parallel_run(tmp_path, "plan")
    try:
        time.sleep(0.2)  # past the workers' start
        for worker in _children(run.pid):
            os.kill(worker, signal.SIGINT)
        out, err = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 0, err
    assert "Traceback" not in err and out.endswith("3 sites: 3 with changes\n")


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_ctrl_c_in_a_parallel_run_exits_130_without_the_workers_tracebacks(
    tmp_path: Path, command: str
) -> None:
    """A terminal sends Ctrl-C to the whole process group, the site workers too: they
    leave it to the parent, which stops them, and nothing is applied."""
    run, db = _parallel_run(tmp_path, command)
    try:
        os.killpg(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "Interrupted."
    backend = SandboxBackend(db)
    assert [s for s in ("big", "small-0", "small-1") if backend.read_state(s).exists] == []
