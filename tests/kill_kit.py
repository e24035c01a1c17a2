"""Helpers for kill tests: run onenet in a subprocess and SIGKILL it mid-run."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


def kill_onenet(
    workdir: Path, args: list[str], rng: random.Random, progress: str, most: int
) -> None:
    """SIGKILL `onenet ARGS` at a random instant: mostly once the SQL query
    `progress` counts a random number (1 to `most`) of committed rows, so the kill
    lands mid-run whatever the machine's speed; sometimes at a random time
    (startup, planning)."""
    env = {k: v for k, v in os.environ.items() if k != "ONENET_BACKEND"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "onenet_apply", *args],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 0.6))
    else:
        wait_for_count(proc, workdir / ".onenet" / "sandbox.db", progress, rng.randrange(1, most))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def wait_for_count(proc: subprocess.Popen[bytes], database: Path, query: str, count: int) -> None:
    """Until `query` counts `count` committed rows, or the process ends (60 s at most)."""
    deadline = time.monotonic() + 60
    reader: sqlite3.Connection | None = None
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if reader is None and database.exists():
                reader = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
            if reader is not None and reader.execute(query).fetchone()[0] >= count:
                break
        except sqlite3.Error:  # not created yet
            pass
        time.sleep(0.001)
    if reader is not None:
        reader.close()
