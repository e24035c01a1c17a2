"""A throwaway PostgreSQL cluster for the tests: started on a directory and a free
port, stopped (and the directory removed by the caller) afterwards.

    python3 tools/throwaway_postgres.py start DIR     # prints the superuser's URL
    python3 tools/throwaway_postgres.py restart DIR   # the same URL again
    python3 tools/throwaway_postgres.py stop DIR      # harmless when nothing runs

The cluster listens on 127.0.0.1 only, with its unix socket in DIR, and trades
durability for speed (fsync, synchronous_commit and full_page_writes off). The
superuser `postgres` logs in without a password; every other role, such as the
cluster's `onenet_team` (a plain role that may create a schema in database
`postgres`), must give its password. That password is generated per cluster and
kept in DIR/team-password (mode 0600) and on `Server`, never in a URL. Only its
SCRAM verifier reaches the server, so no log of the server can show it.

As root, initdb and the server run as the `postgres` user (PostgreSQL refuses to
run as root), so DIR is given to that user and must be reachable by it. Standard
library only: CI runs this before anything is installed.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import hmac
import os
import secrets
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
SUPERUSER = "postgres"
TEAM_ROLE = "onenet_team"
DATABASE = "postgres"
PASSWORD_FILE = "team-password"
PORT_FILE = "port"
LOG_FILE = "server.log"
DATA = "data"
SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}
# the superuser trusted on this machine; every other role gives its password
HBA = f"""\
local all {SUPERUSER} trust
local all all scram-sha-256
host all {SUPERUSER} {HOST}/32 trust
host all all {HOST}/32 scram-sha-256
"""


class ThrowawayError(RuntimeError):
    """A cluster could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class Server:
    """A running throwaway cluster: where it is and how to reach it."""

    directory: Path
    port: int
    team_password: str = field(repr=False)

    @property
    def url(self) -> str:
        """The superuser's URL (no password needed)."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{DATABASE}"

    @property
    def team_url(self) -> str:
        """The team role's URL, without its password (give it as PGPASSWORD)."""
        return f"postgresql://{TEAM_ROLE}@{HOST}:{self.port}/{DATABASE}"


def binaries() -> Path:
    """The folder of initdb and pg_ctl: `pg_config --bindir`, else the PATH, else
    the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += [Path(p) for p in sorted(versions, key=_version, reverse=True)]
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "psql")):
            return folder
    raise ThrowawayError(
        "PostgreSQL server binaries (initdb, pg_ctl, psql) not found through "
        "`pg_config --bindir`, the PATH or /usr/lib/postgresql/*/bin; install the "
        "PostgreSQL server package (e.g. `apt-get install postgresql`)"
    )


def _version(path: str) -> tuple[int, ...]:
    name = Path(path).parent.name
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def available() -> bool:
    """Whether this machine can start a throwaway cluster."""
    try:
        binaries()
    except ThrowawayError:
        return False
    return True


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(directory: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Run a server binary, as the postgres user when we are root."""
    prefix = ["runuser", "-u", SUPERUSER, "--"] if _as_root() else []
    return subprocess.run(
        [*prefix, *command], cwd=directory, capture_output=True, text=True, timeout=120
    )


def _check(done: subprocess.CompletedProcess[str], what: str, directory: Path) -> None:
    if done.returncode == 0:
        return
    lines = (done.stderr or done.stdout).strip().splitlines()
    reason = lines[-1] if lines else f"exit status {done.returncode}"
    hint = f" (see {directory / LOG_FILE})" if (directory / LOG_FILE).exists() else ""
    if _as_root():
        hint += f"; as root the server runs as the {SUPERUSER} user, who must reach {directory}"
    raise ThrowawayError(f"{what} failed: {reason}{hint}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677),
    so that CREATE ROLE carries no password a server log could show."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _initialise(directory: Path, bindir: Path) -> str:
    """initdb into DIR/data with the test settings; the team password, kept in DIR."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    if _as_root():
        shutil.chown(directory, SUPERUSER, SUPERUSER)
    done = _run(
        directory,
        str(bindir / "initdb"),
        "-D",
        str(directory / DATA),
        "-U",
        SUPERUSER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    )
    _check(done, "initdb", directory)
    (directory / DATA / "pg_hba.conf").write_text(HBA)
    password = secrets.token_urlsafe(24)
    secret = directory / PASSWORD_FILE
    secret.touch(mode=0o600)
    secret.write_text(password)
    return password


def _configure(directory: Path, port: int) -> None:
    """The server's settings, the port among them (rewritten when a port is taken)."""
    settings = {**SETTINGS, "port": str(port), "unix_socket_directories": f"'{directory}'"}
    text = "".join(f"{name} = {value}\n" for name, value in settings.items())
    (directory / DATA / "postgresql.auto.conf").write_text(text)
    (directory / PORT_FILE).write_text(f"{port}\n")


def _create_team_role(directory: Path, bindir: Path, port: int, password: str) -> None:
    sql = (
        f"CREATE ROLE {TEAM_ROLE} LOGIN PASSWORD '{scram_verifier(password)}';\n"
        f"GRANT CREATE ON DATABASE {DATABASE} TO {TEAM_ROLE};\n"
    )
    done = subprocess.run(
        [str(bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-", _url(port)],
        input=sql,
        capture_output=True,
        text=True,
        timeout=60,
    )
    _check(done, f"creating role {TEAM_ROLE}", directory)


def _url(port: int) -> str:
    return f"postgresql://{SUPERUSER}@{HOST}:{port}/{DATABASE}"


def _pg_ctl(directory: Path, bindir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(directory, str(bindir / "pg_ctl"), "-D", str(directory / DATA), *args)


def running(directory: Path) -> bool:
    """Whether a server runs on DIR's cluster."""
    if not (directory / DATA / "postmaster.pid").exists():
        return False
    return _pg_ctl(directory, binaries(), "status").returncode == 0


def server(directory: Path) -> Server:
    """The cluster on DIR as it was set up (running or not)."""
    try:
        port = int((directory / PORT_FILE).read_text())
        password = (directory / PASSWORD_FILE).read_text().strip()
    except (OSError, ValueError) as e:
        raise ThrowawayError(f"{directory} holds no throwaway cluster: {e}") from e
    return Server(directory.resolve(), port, password)


def start(directory: Path) -> Server:
    """Start the cluster on DIR (made there first when DIR holds none) and return
    once it accepts connections. A new cluster gets a free port (another when that
    one is taken in the meantime); an existing one keeps its port, so its URL holds."""
    directory = directory.resolve()
    bindir = binaries()
    fresh = not (directory / DATA / "PG_VERSION").exists()
    password = _initialise(directory, bindir) if fresh else server(directory).team_password
    if running(directory):
        return server(directory)
    for attempt in range(3):
        if fresh:
            _configure(directory, free_port())
        port = server(directory).port
        log = str(directory / LOG_FILE)
        done = _pg_ctl(directory, bindir, "-l", log, "-w", "-t", "60", "start")
        if done.returncode == 0:
            break
        if not fresh or attempt == 2:
            _check(done, f"starting the server on port {port}", directory)
    if fresh:
        _create_team_role(directory, bindir, port, password)
    return Server(directory, port, password)


def stop(directory: Path) -> None:
    """Stop the server on DIR (fast mode: sessions are ended); nothing when none runs."""
    directory = directory.resolve()
    if not (directory / DATA / "postmaster.pid").exists():
        return
    bindir = binaries()
    if _pg_ctl(directory, bindir, "status").returncode != 0:
        return
    _check(_pg_ctl(directory, bindir, "-m", "fast", "-w", "-t", "60", "stop"), "stop", directory)


def restart(directory: Path) -> Server:
    """Stop the server on DIR if it runs and start it again, on the same port."""
    stop(directory)
    return start(directory)


def main(argv: list[str]) -> int:
    """The command line: start, restart or stop DIR; start and restart print the
    superuser's URL (never a password)."""
    if len(argv) != 2 or argv[0] not in ("start", "stop", "restart"):
        print("usage: throwaway_postgres.py start|stop|restart DIR", file=sys.stderr)
        return 2
    command, directory = argv[0], Path(argv[1])
    try:
        if command == "stop":
            stop(directory)
        else:
            print((start if command == "start" else restart)(directory).url)
    except (ThrowawayError, subprocess.TimeoutExpired, OSError) as e:
        print(f"throwaway_postgres.py {command}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
