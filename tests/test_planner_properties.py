"""Planner invariants, with random sites against the real sandbox (hypothesis).

(a) executing a plan's ready actions in order never meets a platform refusal, one
    by one or in batches, whatever the gates, licences, pool or unmanaged objects;
(b) apply, activate everything, apply again: the next plan is empty (where a way
    exists), or holds only blocked work (where a human must act first);
(c) the same inputs give byte-identical JSON plans, in one process and across
    processes with different hash seeds;
(d) failed activations leave only blocked work until the team retries or removes them;
(e) gates only hold work back: the gated plan is the lifted one with some actions
    gated, and unmanaged objects are never the target of an action.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.plan import Kind, Plan, Status
from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.planner import plan
from onenet_apply.planning.render import render_json
from tests.conftest import ROOT, example_without_lena, scaled
from tests.planner_kit import LIFTED, apply_ready, settle, spec_of
from tests.planner_strategies import (
    FULL_POOL_SWAP,
    LICENCE_TRADE,
    SPLIT_EXAMPLES,
    Scenario,
    scenarios,
    sites,
)

SITE = "t"
ROUNDS = 6  # apply-and-activate rounds a converging site may need
OPTIONS = LIFTED
# what other tests build their random sites with
__all__ = ["OPTIONS", "SITE", "apply_ready", "settle", "sites"]


def settings_for(examples: int) -> settings:
    return settings(
        max_examples=scaled(examples), deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def sandbox_at_current(
    tmp: str, scenario: Scenario, seed: int, fail_some: bool, batch: int = 1
) -> SandboxBackend:
    """A sandbox owning the scenario's licences, brought to its current site."""
    backend = SandboxBackend(Path(tmp) / "sandbox.db")
    if scenario.licences is not None:
        backend.configure(SITE, licences=scenario.licences)
    settle(backend, spec_of(scenario.current.text), random.Random(seed), fail_some, batch)
    return backend


def replan(backend: SandboxBackend, desired: SiteSpec) -> Plan:
    """The plan, every gate lifted, from the sandbox's site as it is now."""
    return plan(desired, backend.read_state(SITE), LIFTED, catalogue=backend.catalogue())


def apply_rounds(backend: SandboxBackend, desired: SiteSpec, rounds: int) -> None:
    """Apply the ready actions and let the carrier activate everything, `rounds` times."""
    for _ in range(rounds):
        apply_ready(backend, replan(backend, desired))
        backend.activate(SITE)


def assert_unmanaged_untouched(the_plan: Plan, scenario: Scenario) -> None:
    touched = {a.target.id for a in the_plan.actions} & set(scenario.unmanaged)
    assert not touched, render_json(the_plan)


@settings_for(50)
@example(scenario=SPLIT_EXAMPLES[0], seed=0, fail_some=False, batch=1)
@example(scenario=SPLIT_EXAMPLES[1], seed=0, fail_some=False, batch=4)
@example(scenario=LICENCE_TRADE, seed=0, fail_some=False, batch=1)
@given(
    scenario=scenarios(harsh=True),
    seed=st.integers(0, 2**16),
    fail_some=st.booleans(),
    batch=st.sampled_from([1, 4, 100]),
)
def test_ready_actions_never_meet_a_refusal(
    scenario: Scenario, seed: int, fail_some: bool, batch: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = sandbox_at_current(tmp, scenario, seed, fail_some, batch)
        desired = spec_of(scenario.desired.text)
        the_plan = plan(
            desired, backend.read_state(SITE), scenario.options, catalogue=backend.catalogue()
        )
        assert_unmanaged_untouched(the_plan, scenario)
        apply_ready(backend, the_plan, batch)  # (a)
        assert backend.check_consistency(SITE) == []
        backend.close()


@settings_for(30)
@given(scenario=scenarios(harsh=True), seed=st.integers(0, 2**16))
def test_gates_only_hold_back_what_the_lifted_plan_would_do(scenario: Scenario, seed: int) -> None:
    """(e) the plan under the scenario's gates has the lifted plan's actions, in its
    order, with its changes; an action differs only by being gated instead of ready
    or deferred, and with deletes not allowed no delete is ready."""
    with tempfile.TemporaryDirectory() as tmp:
        backend = sandbox_at_current(tmp, scenario, seed, fail_some=True)
        desired, state = spec_of(scenario.desired.text), backend.read_state(SITE)
        gated, lifted = (
            plan(desired, state, scenario.options, catalogue=default_catalogue()),
            plan(desired, state, LIFTED, catalogue=default_catalogue()),
        )
        backend.close()
    assert [(a.id, a.changes) for a in gated.actions] == [(a.id, a.changes) for a in lifted.actions]
    for held, free in zip(gated.actions, lifted.actions, strict=True):
        if held.status is Status.GATED:
            assert free.status in (Status.READY, Status.DEFERRED), (held, free)
        else:
            assert held.status is free.status, (held, free)
    if not (scenario.options.allow_delete or desired.site.policy.allow_delete):
        assert not [a for a in gated.ready if a.kind is Kind.DELETE], render_json(gated)
    # the change gate counts every existing user changed or deleted by the lifted plan
    touched = {
        a.target.id
        for a in lifted.actions
        if a.target.type == "user" and a.target.id in state.users
        if a.kind is not Kind.ACTIVATION_FAILED
    }
    limit = desired.site.policy.max_change_percent
    if not scenario.options.force and len(state.users) >= 10:
        over = 100 * len(touched) > limit * len(state.users)
        ready_users = [a for a in gated.ready if a.target.type == "user"]
        assert not (over and ready_users), render_json(gated)
        if not over:  # then only deletes are gated, and what waits for them
            for held in gated.gated:
                assert held.kind is Kind.DELETE or held.reason.startswith("waits for"), held


@settings_for(30)
@example(scenario=LICENCE_TRADE, seed=0)
@example(scenario=FULL_POOL_SWAP, seed=0)
@given(scenario=scenarios(harsh=True), seed=st.integers(0, 2**16))
def test_stuck_sites_end_with_only_blocked_work(scenario: Scenario, seed: int) -> None:
    """(b) where no way exists (a full pool, short licences, an unmanaged holder), apply
    and activate until nothing moves: what is left is blocked, each with a reason."""
    with tempfile.TemporaryDirectory() as tmp:
        backend = sandbox_at_current(tmp, scenario, seed, fail_some=False)
        desired = spec_of(scenario.desired.text)
        apply_rounds(backend, desired, 4)
        final = replan(backend, desired)
        assert all(a.status is Status.BLOCKED and a.reason for a in final.actions), render_json(
            final
        )
        assert backend.check_consistency(SITE) == []
        backend.close()


@settings_for(40)
@example(scenario=SPLIT_EXAMPLES[0], seed=0)
@example(scenario=SPLIT_EXAMPLES[1], seed=0)
@given(scenario=scenarios(harsh=False), seed=st.integers(0, 2**16))
def test_apply_activate_apply_converges_to_an_empty_plan(scenario: Scenario, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = sandbox_at_current(tmp, scenario, seed, fail_some=False)
        backend.activate(SITE)
        desired = spec_of(scenario.desired.text)
        # (b): apply, activate everything, apply again, while each round does something
        # (a licence trade tangled with a swap may wait a round: ROUNDS bounds the chain)
        for _ in range(ROUNDS):
            the_plan = replan(backend, desired)
            assert_unmanaged_untouched(the_plan, scenario)
            if not the_plan.ready:
                break
            apply_ready(backend, the_plan)
            backend.activate(SITE)
        final = past_a_licence_trade(backend, desired)
        assert final.empty, render_json(final)
        backend.close()


def past_a_licence_trade(backend: SandboxBackend, desired: SiteSpec) -> Plan:
    """The plan left once a package trade with every licence in use (which only a
    human can settle) is settled the way a human would: by one more licence."""
    final = replan(backend, desired)
    short = licences_short(final)
    if short:
        owned = backend.settings(SITE)["licences"] or {}
        backend.configure(SITE, licences={**owned, **{name: owned[name] + 1 for name in short}})
        apply_rounds(backend, desired, ROUNDS)
        final = replan(backend, desired)
    return final


def licences_short(stuck: Plan) -> set[str]:
    """The licences a blocked trade waits for (docs/edge-cases.md #9: users trading
    packages while every licence is in use), when that is all that is left: every
    action still planned is blocked by such a trade or waits for one."""
    short = {
        match.group(1)
        for a in stuck.actions
        if a.reason and (match := TRADE_BLOCKED.match(a.reason))
    }
    if short:
        assert all(a.status is Status.BLOCKED for a in stuck.actions), render_json(stuck)
    return short


TRADE_BLOCKED = re.compile(r"needs a (\S+) licence, and all \d+ the site owns are in use")


@settings_for(30)
@given(
    scenario=scenarios(harsh=False),
    seed=st.integers(0, 2**16),
    answer=st.sampled_from(["retry", "remove"]),
)
def test_failed_activations_leave_only_blocked_lines_until_the_team_answers(
    scenario: Scenario, seed: int, answer: str
) -> None:
    """(d) with failed users and groups, apply and activate until nothing moves: what is
    left is blocked, one activation-failed line per failed object and nothing else done
    to it; once the team retries or removes them all, the site converges."""
    with tempfile.TemporaryDirectory() as tmp:
        backend = sandbox_at_current(tmp, scenario, seed, fail_some=True)
        backend.fail(SITE)  # whatever is still pending fails too
        desired = spec_of(scenario.desired.text)
        apply_rounds(backend, desired, 3)
        state = backend.read_state(SITE)
        failed = {
            f"{kind}/{ident}"
            for kind in ("user", "hunt_group", "call_centre")
            for ident, c in state.section(kind).items()
            if c.lifecycle == "failed" and ident not in scenario.unmanaged
        }
        stuck = plan(desired, state, LIFTED, catalogue=default_catalogue())
        assert all(a.status is Status.BLOCKED for a in stuck.actions), render_json(stuck)
        assert sorted(str(a.target) for a in stuck.actions if str(a.target) in failed) == sorted(
            str(a.target) for a in stuck.actions if a.kind is Kind.ACTIVATION_FAILED
        )
        assert {str(a.target) for a in stuck.actions if a.kind is Kind.ACTIVATION_FAILED} == failed
        if failed:
            getattr(backend, answer)(SITE)
        apply_rounds(backend, desired, 4)
        final = past_a_licence_trade(backend, desired)
        assert final.empty, render_json(final)
        assert backend.check_consistency(SITE) == []
        backend.close()


@settings_for(20)
@given(scenario=scenarios(harsh=True), seed=st.integers(0, 2**16))
def test_plans_are_byte_identical_for_the_same_inputs(scenario: Scenario, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = sandbox_at_current(tmp, scenario, seed, fail_some=True)
        desired = spec_of(scenario.desired.text)
        first = render_json(
            plan(desired, backend.read_state(SITE), scenario.options, catalogue=backend.catalogue())
        )
        again = render_json(
            plan(desired, backend.read_state(SITE), scenario.options, catalogue=backend.catalogue())
        )
        assert first == again  # (c)
        backend.close()


def replay(cases: Path, hash_seed: str) -> str:
    """The plans of `cases`, made by a fresh interpreter with this string hash seed."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.planner_replay", str(cases)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@settings_for(2)
@given(
    generated=st.lists(
        st.tuples(scenarios(harsh=True), st.integers(0, 2**16)), min_size=3, max_size=4
    )
)
def test_plans_are_byte_identical_across_hash_seeds(
    generated: list[tuple[Scenario, int]], tmp_path_factory
) -> None:
    """(c) sets and dicts of strings iterate in another order under another hash seed:
    none of that may reach the plan. The example site (its lena deleted, then back)
    and random ones are planned in two processes and the JSON compared byte for byte."""
    example = (ROOT / "examples" / "site.yaml").read_text()
    cases = [
        {"current": example_without_lena(), "desired": example, "licences": None, "seed": 0},
        {"current": example, "desired": example_without_lena(), "licences": None, "seed": 1},
    ]
    for scenario, seed in generated:
        cases.append(
            {
                "current": scenario.current.text,
                "desired": scenario.desired.text,
                "licences": scenario.licences,
                "options": asdict(scenario.options),
                "seed": seed,
            }
        )
    path = tmp_path_factory.mktemp("replay") / "cases.json"
    path.write_text(json.dumps(cases))
    first, second = replay(path, "1"), replay(path, "4242")
    assert first.count('"format_version"') == len(cases)
    assert first == second
