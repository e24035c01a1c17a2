"""Runs over OCI-P to kill and to fault: `onenet sandbox serve-ocip` in its own
process (`serve`, with `--faults` when asked), `onenet apply` over it as a process
SIGKILLed at a random instant (`kill_apply`), and what every run must leave: each
desk phone password the peer stores is the last one the CSVs hold for its user
(`unverified`), and no password in any output (`leaks`)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from onenet_apply.apply.credentials import read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from tests.kill_kit import wait_for_count

LOGIN_USER, LOGIN_PASSWORD = "onenet-admin", "Kill-Test-Login-42"
TIME_KILLS = 0.25  # the share of kills at a random time (startup, reading, planning)


def login_env(locks: Path) -> dict[str, str]:
    """The environment of the peer and the client: the one OCI-P login, a lock
    directory of the test's own, no backend named."""
    env = {k: v for k, v in os.environ.items() if k != "ONENET_BACKEND"}
    env |= {"ONENET_OCIP_USER": LOGIN_USER, "ONENET_OCIP_PASSWORD": LOGIN_PASSWORD}
    env["ONENET_LOCK_DIR"] = str(locks)
    return env


@dataclass
class Peer:
    """A served sandbox file; `out` and `err` hold the peer's output once it stopped."""

    path: Path
    url: str
    process: subprocess.Popen[str]
    out: str = ""
    err: str = ""

    @property
    def sandbox_url(self) -> str:
        return f"sandbox:{self.path}"

    def sandbox(self) -> SandboxBackend:
        return SandboxBackend(self.path)

    def journal_end(self) -> int:
        """The last journal entry's number (0 for none yet), read without writing."""
        if not self.path.exists():
            return 0
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            return int(reader.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()[0])
        except sqlite3.Error:
            return 0
        finally:
            reader.close()


@contextmanager
def serve(path: Path, env: Mapping[str, str], faults: str | None = None) -> Iterator[Peer]:
    """`onenet sandbox serve-ocip` for `path` on a free loopback port, until the
    block ends; then stopped with SIGTERM (killed if it does not stop)."""
    command = [sys.executable, "-m", "onenet_apply", "sandbox", "serve-ocip"]
    command += ["--backend", f"sandbox:{path}", "--listen", "127.0.0.1:0"]
    command += ["--faults", faults] if faults else []
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(env)
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    peer = Peer(path, f"ocip://127.0.0.1:{line.strip().rpartition(':')[2]}/sandbox", process)
    try:
        assert line.startswith("listening on 127.0.0.1:"), line
        yield peer
    finally:
        process.terminate()
        try:
            rest, peer.err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, peer.err = process.communicate()
        peer.out = line + rest


@dataclass(frozen=True)
class Killed:
    mid_apply: bool  # killed while running, after the peer committed some of its writes
    output: str  # what the client wrote to stdout and stderr before it died


def kill_apply(
    workdir: Path,
    peer: Peer,
    env: Mapping[str, str],
    args: list[str],
    rng: random.Random,
    most: int,
) -> Killed:
    """`onenet apply ARGS --backend PEER` as a process, SIGKILLed at a random instant:
    mostly once the peer has journalled a random number (1 to `most`) of writes
    since it started, so the kill lands mid-apply whatever the machine's speed;
    sometimes at a random time."""
    start = peer.journal_end()
    out, err = workdir / f"{args[-1]}.out", workdir / f"{args[-1]}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "onenet_apply", "apply", *args, "--backend", peer.url],
            cwd=workdir,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
        if rng.random() < TIME_KILLS:
            time.sleep(rng.uniform(0.0, 2.0))
        else:
            query = f"SELECT COUNT(*) FROM journal WHERE seq > {start}"
            wait_for_count(process, peer.path, query, rng.randrange(1, most))
        running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
    return Killed(running and peer.journal_end() > start, out.read_text() + err.read_text())


def last_passwords(csvs: Iterable[Path]) -> dict[str, str]:
    """Each user's password in the last row for it, the CSVs read in the order given."""
    last: dict[str, str] = {}
    for csv_file in csvs:
        if csv_file.exists():  # a run that issued nothing (or died first) writes none
            for row in read_rows(csv_file):
                if row.get("password"):  # a row cut short by the kill holds none
                    last[row["user_id"]] = row["password"]
    return last


def unverified(sandbox: SandboxBackend, site: str, csvs: Iterable[Path]) -> list[str]:
    """The desk phone users whose stored password is not the last one the CSVs hold."""
    last = last_passwords(csvs)
    state = sandbox.read_state(site)
    return sorted(
        uid
        for uid, current in state.users.items()
        if current.item.desk_phone != "none"
        and not (uid in last and sandbox.verify_login(site, uid, last[uid]))
    )


def all_passwords(csvs: Iterable[Path]) -> set[str]:
    """Every password of every row, and the OCI-P login's."""
    found = {LOGIN_PASSWORD}
    for csv_file in csvs:
        if csv_file.exists():
            found.update(r["password"] for r in read_rows(csv_file) if r.get("password"))
    return found


def leaks(outputs: Mapping[str, str], passwords: set[str]) -> list[str]:
    """The names of the outputs that hold one of `passwords` (never the password)."""
    return sorted(name for name, text in outputs.items() if any(p in text for p in passwords))
