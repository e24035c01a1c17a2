"""Random user sites brought from one file to another (number swaps, licences just
enough, the carrier activating a random part each round) over OCI-P end each round
exactly where the sandbox's own backend ends on the same rounds: the same users,
read back over OCI-P as the sandbox reports them, and the same refusals."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onenet_apply.backends.base import RefusedError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.planning.ordering import PlanError
from onenet_apply.planning.planner import plan
from tests.conftest import scaled
from tests.ocip_kit import DocumentTap, missing_schema
from tests.ocip_users_kit import loop, same_users
from tests.planner_kit import LIFTED, apply_ready, spec_of
from tests.planner_strategies import Scenario, scenarios

SITE = "t"


def users_only(text: str) -> str:
    """The site file without its groups: the users half is tested here."""
    site = yaml.safe_load(text)
    return yaml.safe_dump({k: v for k, v in site.items() if k in ("version", "site", "users")})


def apply_round(backend: Any, text: str) -> str:
    """Plan and carry out the ready actions; what stopped them, if anything."""
    desired = spec_of(users_only(text))
    try:
        apply_ready(
            backend, plan(desired, backend.read_state(SITE), LIFTED, catalogue=backend.catalogue())
        )
    except PlanError as e:
        return f"plan: {e}"
    except RefusedError as e:
        return str(e)
    return "done"


@settings(max_examples=scaled(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(harsh=False), seed=st.integers(0, 2**16))
def test_random_user_sites_over_ocip_end_where_the_sandbox_ends(
    scenario: Scenario, seed: int
) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        tap = DocumentTap()
        kit = loop(Path(tmp), taps=[tap])
        alone = SandboxBackend(Path(tmp) / "alone.db", faults=None)
        steps = [(scenario.current.text, 1.0)] * 3 + [(scenario.desired.text, 0.6)] * 4
        for n, (text, share) in enumerate(steps):
            if n == 3 and scenario.licences is not None:
                kit.sandbox.configure(SITE, licences=scenario.licences)
                alone.configure(SITE, licences=scenario.licences)
            over_ocip, direct = apply_round(kit.backend, text), apply_round(alone, text)
            assert direct in over_ocip if direct != "done" else over_ocip == "done"
            ocip, held = same_users(kit, SITE)
            assert ocip == held == dict(alone.read_state(SITE).users)
            pending = [f"user/{u}" for u, c in held.items() if c.lifecycle == "pending"]
            chosen = [p for p in pending if rng.random() < share]
            if chosen:
                kit.sandbox.activate(SITE, chosen)
                alone.activate(SITE, chosen)
        if missing_schema() is None:  # every document passes the R25 schema
            assert tap.invalid() == []
