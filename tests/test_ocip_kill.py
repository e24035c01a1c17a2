"""Kills and faults over OCI-P lose nothing: `onenet apply` against `onenet sandbox
serve-ocip` (its own process) is SIGKILLed at random instants, or the peer drops
the connection after committing, answers Warnings, or forgets the session. Every
run ends in one clear line (never a traceback), the site converges to what a
fault-free apply makes, each desk phone password the peer stores is the last one
the credentials CSVs hold for its user (rows of killed runs included), and no
password (the OCI-P login's, a desk phone's) is in any output or the peer's journal.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from benchmarks.sitegen import generate
from onenet_apply.backends.ocip import codec, transport
from onenet_apply.model.state import SiteState
from tests.conftest import EXAMPLE
from tests.ocip_kill_kit import (
    Peer,
    all_passwords,
    kill_apply,
    leaks,
    login_env,
    serve,
    unverified,
)
from tests.ocip_kit import DocumentTap

USERS, GROUPS, BENCH = 150, 30, "bench"
ROUNDS = 7
MOST = 60  # a kill lands within the first MOST writes of a round
EXAMPLE_SITE = "berlin-hq"
RUNS = 8  # a faulted site converges within this many applies
WARNING_CODE = 4999  # the peer's injected Warning


def _use_peer(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str], peer: Peer) -> None:
    """The in-process `onenet` speaks to `peer` with the environment's login."""
    for name in ("ONENET_OCIP_USER", "ONENET_OCIP_PASSWORD", "ONENET_LOCK_DIR"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("ONENET_BACKEND", peer.url)


def _activate(onenet, peer: Peer, site: str) -> None:  # type: ignore[no-untyped-def]
    """The carrier activates every pending number (a site not written yet has none)."""
    result = onenet("sandbox", "activate", "--site", site, "--all", "--backend", peer.sandbox_url)
    assert result.code == 0 or f"no site {site}" in result.err, result.err


def _journal(peer: Peer, site: str) -> str:
    sandbox = peer.sandbox()
    try:
        return repr(sandbox.journal(site))
    finally:
        sandbox.close()


def _check_end(peer: Peer, site: str, csvs: list[Path]) -> SiteState:
    """The peer's sandbox is consistent and every stored desk phone password is
    the last one the CSVs (in issue order) hold for its user; its state."""
    sandbox = peer.sandbox()
    try:
        assert sandbox.check_consistency(site) == []
        lost = unverified(sandbox, site, csvs)
        assert lost == [], f"{len(lost)} stored passwords are no CSV's last: {lost[:5]}"
        return sandbox.read_state(site)
    finally:
        sandbox.close()


class Wire:
    """What the in-process client sent (every document, checked against the R25
    schema when it can be had) and how many replies held each fault code."""

    def __init__(self, tap: DocumentTap) -> None:
        self.tap = tap
        self.replies: Counter[int | None] = Counter()

    def logins(self) -> int:
        return self.tap.types().count("LoginRequest22V5")


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, sent_documents: DocumentTap) -> Wire:
    seen = Wire(sent_documents)
    plain_init, plain_decode = transport.SocketChannel.__init__, codec.decode

    def tapped(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        plain_init(self, *args, **kwargs)
        self.taps.append(sent_documents)

    def decode(document: bytes) -> Any:
        reply = plain_decode(document)
        seen.replies.update({a.code for a in reply.commands if isinstance(a, codec.Fault)})
        return reply

    monkeypatch.setattr(transport.SocketChannel, "__init__", tapped)
    monkeypatch.setattr(codec, "decode", decode)
    return seen


def test_killed_applies_over_ocip_lose_no_credential_and_converge(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch, wire: Wire
) -> None:
    site = workdir / "site.yaml"
    site.write_text("".join(generate(USERS, GROUPS, BENCH)))
    env = login_env(workdir / "locks")
    rng = random.Random(20261126)
    csvs: list[Path] = []
    outputs: dict[str, str] = {}
    caught_mid_apply = 0
    with serve(workdir / "peer.db", env) as peer:
        _use_peer(monkeypatch, env, peer)
        for n in range(ROUNDS):
            csvs.append(workdir / f"round{n}.csv")
            args = [str(site), "--yes", "--credentials-out", csvs[-1].name]
            killed = kill_apply(workdir, peer, env, args, rng, MOST)
            outputs[f"round {n}"] = killed.output
            assert "Traceback" not in killed.output, f"round {n}"
            caught_mid_apply += killed.mid_apply
            if rng.random() < 0.5:
                _activate(onenet, peer, BENCH)
        for n in range(3):  # a clean apply, the carrier, again until nothing is left
            csvs.append(workdir / f"final{n}.csv")
            result = onenet("apply", str(site), "--yes", "--credentials-out", csvs[-1].name)
            outputs[f"final {n}"] = result.out + result.err
            assert result.code in (0, 3), result.err
            _activate(onenet, peer, BENCH)
            planned = onenet("plan", str(site), "--detailed-exitcode")
            outputs[f"plan {n}"] = planned.out + planned.err
            if planned.code == 0:
                break
        assert planned.code == 0, planned.out
        _check_end(peer, BENCH, csvs)
        outputs["the peer's journal"] = _journal(peer, BENCH)
    outputs |= {"the peer's stdout": peer.out, "the peer's stderr": peer.err}
    assert peer.err == ""
    assert leaks(outputs, all_passwords(csvs)) == []
    # the kills must really land while the peer is writing, or the test proves nothing
    assert caught_mid_apply >= ROUNDS // 3, caught_mid_apply


# -- faults the peer injects --------------------------------------------------------------
FAULTS = {
    "drop-after-commit": "drop-after-commit:every=4",
    "warning": "warning:every=13",
    "expire-session": "expire-session:every=3",
    "all three": "drop-after-commit:every=7,warning:every=17,expire-session:every=5",
}


def _converged(directory: Path, env: Mapping[str, str]) -> SiteState:
    """The example applied over OCI-P without faults, activated, applied again."""
    with serve(directory / "peer.db", env) as peer:
        activate = ["sandbox", "activate", "--site", EXAMPLE_SITE, "--all"]
        for args, codes in (
            (["apply", str(EXAMPLE), "--yes", "--backend", peer.url], (0, 3)),
            ([*activate, "--backend", peer.sandbox_url], (0,)),
            (["apply", str(EXAMPLE), "--yes", "--backend", peer.url], (0,)),
            (["plan", str(EXAMPLE), "--detailed-exitcode", "--backend", peer.url], (0,)),
        ):
            done = subprocess.run(
                [sys.executable, "-m", "onenet_apply", *args],
                cwd=directory,
                env=dict(env),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode in codes, done.stderr
        return _check_end(peer, EXAMPLE_SITE, sorted(directory.glob("onenet-credentials-*.csv")))


@pytest.fixture(scope="module")
def fault_free(tmp_path_factory: pytest.TempPathFactory) -> SiteState:
    directory = tmp_path_factory.mktemp("fault-free")
    return _converged(directory, login_env(directory / "locks"))


def _one_clear_line(err: str) -> bool:
    """A run that stopped says why in one line of its own."""
    ends = [line for line in err.splitlines() if line.startswith(("Error:", "Failed:"))]
    return len(ends) == 1


@pytest.mark.parametrize("kind", FAULTS)
def test_faults_over_ocip_converge_and_lose_no_credential(
    onenet,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    wire: Wire,
    fault_free: SiteState,
    kind: str,
) -> None:
    env = login_env(workdir / "locks")
    csvs: list[Path] = []
    outputs: dict[str, str] = {}
    with serve(workdir / "peer.db", env, FAULTS[kind]) as peer:
        _use_peer(monkeypatch, env, peer)
        for n in range(RUNS):
            csvs.append(workdir / f"run{n}.csv")
            result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", csvs[-1].name)
            outputs[f"run {n}"] = result.out + result.err
            assert result.code in (0, 1, 3), result.err
            assert result.code != 1 or _one_clear_line(result.err), result.err
            if result.code == 0:  # nothing left: no action deferred, failed or blocked
                break
            _activate(onenet, peer, EXAMPLE_SITE)
        else:
            pytest.fail(f"{kind}: the site did not converge in {RUNS} applies")
        assert _check_end(peer, EXAMPLE_SITE, csvs) == fault_free
        outputs["the peer's journal"] = _journal(peer, EXAMPLE_SITE)
    outputs |= {"the peer's stdout": peer.out, "the peer's stderr": peer.err}
    assert peer.err == ""
    assert leaks(outputs, all_passwords(csvs)) == []
    # the faults really happened: answers the client saw, or the logins they cost
    expired = wire.replies[transport.NOT_LOGGED_IN_CODE]
    if "warning" in FAULTS[kind]:
        assert wire.replies[WARNING_CODE] > 0
    if "expire-session" in FAULTS[kind]:
        assert expired > 0
    if "drop-after-commit" in FAULTS[kind]:  # a new connection after each drop
        assert wire.logins() > n + 1 + expired
