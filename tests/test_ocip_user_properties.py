"""Random user sites brought from one file to another over OCI-P (number swaps,
licences just enough, the carrier activating a random part each round) read back
exactly as the sandbox reports them after every round, and converge to no change."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onenet_apply.planning.planner import plan
from tests.conftest import scaled
from tests.ocip_kit import Loop, loop, same_users
from tests.planner_kit import LIFTED, apply_ready, spec_of
from tests.planner_strategies import Scenario, scenarios

SITE = "t"


def users_only(text: str) -> str:
    """The site file without its groups: the users half is tested here."""
    site = yaml.safe_load(text)
    return yaml.safe_dump({k: v for k, v in site.items() if k in ("version", "site", "users")})


def rounds(kit: Loop, text: str, rng: random.Random, settle: bool) -> None:
    """Apply, and let the carrier activate a random part (all of it when `settle`)."""
    desired = spec_of(users_only(text))
    for _ in range(4):
        state = kit.backend.read_state(SITE)
        apply_ready(kit.backend, plan(desired, state, LIFTED, catalogue=kit.backend.catalogue()))  # type: ignore[arg-type]
        ocip, sandbox = same_users(kit, SITE)
        assert ocip == sandbox
        pending = [f"user/{u}" for u, c in sandbox.items() if c.lifecycle == "pending"]
        chosen = pending if settle else [p for p in pending if rng.random() < 0.6]
        if chosen:
            kit.sandbox.activate(SITE, chosen)
    if settle:
        final = plan(
            desired, kit.backend.read_state(SITE), LIFTED, catalogue=kit.backend.catalogue()
        )
        assert final.empty, [a.id for a in final.actions]


@settings(max_examples=scaled(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(harsh=False), seed=st.integers(0, 2**16))
def test_random_user_sites_converge_over_ocip(scenario: Scenario, seed: int) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        kit = loop(Path(tmp))
        rounds(kit, scenario.current.text, rng, settle=True)
        if scenario.licences is not None:
            kit.sandbox.configure(SITE, licences=scenario.licences)
        rounds(kit, scenario.desired.text, rng, settle=False)
        rounds(kit, scenario.desired.text, rng, settle=True)
