"""Planner invariants, with random sites against the real sandbox (hypothesis).

(a) executing a plan's ready actions in order never meets a platform refusal;
(b) apply, activate everything, apply again: the next plan is empty;
(c) the same inputs give byte-identical JSON plans;
(d) failed activations leave only blocked work until the team retries or removes them.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.plan import Kind, Plan, Status
from onenet_apply.planner import PlanOptions, plan
from onenet_apply.render import render_json
from onenet_apply.spec import SiteSpec
from tests.conftest import scaled
from tests.planner_kit import spec

SITE = "t"
OPTIONS = PlanOptions(allow_delete=True, force=True)
PACKAGES = ["standard", "professional"]
PHONES = ["none", "yealink-t54w", "cisco-8841"]


@st.composite
def sites(draw: st.DrawFn) -> SiteSpec:
    """A valid random site: swaps of numbers, extensions and usernames are likely."""
    count = draw(st.integers(0, 7))
    ids = [f"u{i}" for i in draw(st.permutations(range(8)))[:count]]
    numbers = draw(st.permutations(range(1, 12)))
    names = draw(st.permutations(range(8)))
    lines = ["users:\n"] if ids else []
    agents = []
    deactivated = set()
    for k, uid in enumerate(ids):
        fields = {
            "first_name": draw(st.sampled_from(["Anna", "Ben", "Carla"])),
            "last_name": "X",
            "number": f'"030 123456{numbers[k]:02d}"',
            "username": f"name.{names[k]}",
            "package": draw(st.sampled_from(PACKAGES)),
            "desk_phone": draw(st.sampled_from(PHONES)),
        }
        if draw(st.booleans()):
            fields["options"] = "[call-centre-standard]"
            agents.append(uid)
        if draw(st.integers(0, 5)) == 0:
            fields["status"] = "deactivated"
            fields["deactivation"] = '{transfer_to: "030 12345699", caller: presses-key}'
            deactivated.add(uid)
        lines.append(f"  {uid}: {{{', '.join(f'{k}: {v}' for k, v in fields.items())}}}\n")
    active = [u for u in ids if u not in deactivated]
    group_numbers = draw(st.permutations(range(50, 56)))
    if draw(st.booleans()):
        members = draw(st.lists(st.sampled_from(active), unique=True)) if active else []
        weighted = bool(members) and draw(st.booleans())
        extra = ""
        if weighted:
            weights = [100 // len(members)] * len(members)
            weights[0] += 100 - sum(weights)
            extra = (
                ", weights: {"
                + ", ".join(f"{m}: {w}" for m, w in zip(members, weights, strict=True))
                + "}"
            )
        lines.append(
            f'hunt_groups:\n  sales: {{name: Sales, number: "030 123456{group_numbers[0]}",'
            f" policy: {'weighted' if weighted else 'circular'},"
            f" members: [{', '.join(members)}]{extra}}}\n"
        )
    if draw(st.booleans()):
        # a deactivated user stays in, but cannot join, a call centre: only active ones here
        active_agents = [a for a in agents if a not in deactivated]
        chosen = (
            draw(st.lists(st.sampled_from(active_agents), unique=True)) if active_agents else []
        )
        sups = draw(st.lists(st.sampled_from(active), unique=True, max_size=2)) if active else []
        lines.append(
            f'call_centres:\n  cc: {{name: CC, number: "030 123456{group_numbers[1]}",'
            f" edition: standard, agents: [{', '.join(chosen)}],"
            f" supervisors: [{', '.join(sups)}]}}\n"
        )
    for section in ("call_pickup_groups", "call_park_groups"):
        shuffled = draw(st.permutations(ids)) if ids else []
        split = draw(st.integers(0, len(shuffled)))
        lines.append(
            f"{section}:\n  g1: {{name: One, members: [{', '.join(shuffled[:split])}]}}\n"
            f"  g2: {{name: Two, members: [{', '.join(shuffled[split:])}]}}\n"
        )
    return spec("".join(lines))


def apply_ready(backend: SandboxBackend, the_plan: Plan, batch: int = 1) -> None:
    """The ready actions, one by one or in committed batches as the applier sends them."""
    ready = the_plan.ready
    if batch == 1:
        for action in ready:
            backend.execute(SITE, action)  # a RefusedError here fails the test: property (a)
        return
    for start in range(0, len(ready), batch):
        outcome = backend.execute_batch(SITE, ready[start : start + batch])
        assert outcome.error is None, outcome.error  # property (a), batched


def settle(
    backend: SandboxBackend,
    desired: SiteSpec,
    rng: random.Random,
    fail_some: bool,
    batch: int = 1,
) -> None:
    """Apply in rounds while the carrier activates (and maybe fails) a random part."""
    for _ in range(3):
        apply_ready(backend, plan(desired, backend.read_state(SITE), OPTIONS), batch)
        pending = [
            f"{kind}/{ident}"
            for kind in ("user", "hunt_group", "call_centre")
            for ident, c in backend.read_state(SITE).section(kind).items()
            if c.lifecycle == "pending"
        ]
        chosen = [p for p in pending if rng.random() < 0.6]
        if fail_some and chosen and rng.random() < 0.3:
            backend.fail(SITE, chosen[:1])
            chosen = chosen[1:]
        if chosen:
            backend.activate(SITE, chosen)


PROPERTY_SETTINGS = settings(
    max_examples=scaled(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(
    current=sites(),
    desired=sites(),
    seed=st.integers(0, 2**16),
    fail_some=st.booleans(),
    batch=st.sampled_from([1, 4, 100]),
)
def test_ready_actions_never_meet_a_refusal(
    current: SiteSpec, desired: SiteSpec, seed: int, fail_some: bool, batch: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = SandboxBackend(Path(tmp) / "sandbox.db")
        rng = random.Random(seed)
        settle(backend, current, rng, fail_some, batch)
        apply_ready(backend, plan(desired, backend.read_state(SITE), OPTIONS), batch)  # (a)
        assert backend.check_consistency(SITE) == []
        backend.close()


@PROPERTY_SETTINGS
@given(current=sites(), desired=sites(), seed=st.integers(0, 2**16))
def test_apply_activate_apply_converges_to_an_empty_plan(
    current: SiteSpec, desired: SiteSpec, seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = SandboxBackend(Path(tmp) / "sandbox.db")
        settle(backend, current, random.Random(seed), fail_some=False)
        backend.activate(SITE)
        for _ in range(3):  # (b): apply, activate everything, apply again
            apply_ready(backend, plan(desired, backend.read_state(SITE), OPTIONS))
            backend.activate(SITE)
        final = plan(desired, backend.read_state(SITE), OPTIONS)
        assert final.empty, render_json(final)
        backend.close()


@PROPERTY_SETTINGS
@given(
    current=sites(),
    desired=sites(),
    seed=st.integers(0, 2**16),
    answer=st.sampled_from(["retry", "remove"]),
)
def test_failed_activations_leave_only_blocked_lines_until_the_team_answers(
    current: SiteSpec, desired: SiteSpec, seed: int, answer: str
) -> None:
    """(d) with failed users and groups, apply and activate until nothing moves: what is
    left is blocked, one activation-failed line per failed object and nothing else done
    to it; once the team retries or removes them all, the site converges."""
    with tempfile.TemporaryDirectory() as tmp:
        backend = SandboxBackend(Path(tmp) / "sandbox.db")
        settle(backend, current, random.Random(seed), fail_some=True)
        backend.fail(SITE)  # whatever is still pending fails too
        for _ in range(3):
            apply_ready(backend, plan(desired, backend.read_state(SITE), OPTIONS))
            backend.activate(SITE)
        state = backend.read_state(SITE)
        failed = {
            f"{kind}/{ident}"
            for kind in ("user", "hunt_group", "call_centre")
            for ident, c in state.section(kind).items()
            if c.lifecycle == "failed"
        }
        stuck = plan(desired, state, OPTIONS)
        assert all(a.status is Status.BLOCKED for a in stuck.actions), render_json(stuck)
        assert sorted(str(a.target) for a in stuck.actions if str(a.target) in failed) == sorted(
            str(a.target) for a in stuck.actions if a.kind is Kind.ACTIVATION_FAILED
        )
        assert {str(a.target) for a in stuck.actions if a.kind is Kind.ACTIVATION_FAILED} == failed
        if failed:
            getattr(backend, answer)(SITE)
        for _ in range(4):
            apply_ready(backend, plan(desired, backend.read_state(SITE), OPTIONS))
            backend.activate(SITE)
        final = plan(desired, backend.read_state(SITE), OPTIONS)
        assert final.empty, render_json(final)
        assert backend.check_consistency(SITE) == []
        backend.close()


@settings(
    max_examples=scaled(40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(current=sites(), desired=sites(), seed=st.integers(0, 2**16))
def test_plans_are_byte_identical_for_the_same_inputs(
    current: SiteSpec, desired: SiteSpec, seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = SandboxBackend(Path(tmp) / "sandbox.db")
        settle(backend, current, random.Random(seed), fail_some=True)
        state = backend.read_state(SITE)
        first = render_json(plan(desired, state, OPTIONS))
        again = render_json(plan(desired, backend.read_state(SITE), OPTIONS))
        assert first == again  # (c)
        backend.close()
