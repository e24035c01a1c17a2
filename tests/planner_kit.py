"""Build planner inputs quickly: specs from YAML text, states from specs, and a
sandbox brought to a spec the way `onenet apply` and the carrier would."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.plan import Plan
from onenet_apply.model.spec import SiteSpec, frozen_map
from onenet_apply.model.state import Current, Lifecycle, SiteState
from onenet_apply.model.vocabulary import SECTION_OF
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.sitefile.validate import validate_file

ROOMY_POOL = ("+493012345600-+493012345699",)
LIFTED = PlanOptions(allow_delete=True, force=True)  # every gate lifted


def head(
    *,
    allow_delete: bool = True,
    max_change_percent: int = 100,
    pool: tuple[str, ...] | None = ROOMY_POOL,
    site_extra: str = "",
) -> str:
    """The `version` and `site` part of a site file (site id t); `pool=None` omits it."""
    pool_line = f"  number_pool: [{', '.join(f'{e!r}' for e in pool)}]\n" if pool else ""
    return (
        f"version: 1\nsite:\n  id: t\n  name: T\n  country: DE\n{pool_line}"
        f"  policy: {{allow_delete: {'true' if allow_delete else 'false'}, "
        f"max_change_percent: {max_change_percent}}}\n{site_extra}\n"
    )


def user(uid: str, n: int, **extra: str) -> str:
    fields = {
        "first_name": uid.title(),
        "last_name": "X",
        "number": f'"030 123456{n:02d}"',
        "package": "standard",
        **extra,
    }
    return f"  {uid}: {{{', '.join(f'{k}: {v}' for k, v in fields.items())}}}\n"


def spec(body: str, *, allow_delete: bool = True, site_extra: str = "") -> SiteSpec:
    return spec_of(head(allow_delete=allow_delete, site_extra=site_extra) + body)


def spec_of(text: str) -> SiteSpec:
    """The validated spec of a whole site file's text (it must be valid)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "site.yaml"
        path.write_text(text)
        result = validate_file(str(path))
    assert result.spec is not None, [p.format() for p in result.problems]
    return result.spec


def state_of(spec: SiteSpec, default: str = "activated", **lifecycles: str) -> SiteState:
    """The state where `spec` is fully in place, with the given lifecycle states."""
    sections = {}
    for target_type, section in SECTION_OF.items():
        items = getattr(spec, section)
        numbered = target_type in ("user", "hunt_group", "call_centre")
        sections[section] = frozen_map(
            {
                ident: Current(
                    item, Lifecycle(lifecycles.get(ident, default) if numbered else "activated")
                )
                for ident, item in items.items()
            }
        )
    for uid, current in sections["users"].items():
        if current.item.status == "deactivated":
            assert current.lifecycle in ("deactivated", "pending", "failed"), uid
    return SiteState(spec.site.id, True, **sections)


def run(desired: SiteSpec, current: SiteState, **options: bool) -> Plan:
    return plan(desired, current, PlanOptions(**options), catalogue=default_catalogue())


def summary(p: Plan) -> list[tuple[str, str]]:
    return [(a.id, str(a.status)) for a in p.actions]


def apply_ready(backend: SandboxBackend, the_plan: Plan, batch: int = 1) -> None:
    """The ready actions, one by one or in committed batches as the applier sends them.
    A refusal fails the caller: ready actions must never meet one."""
    site, ready = the_plan.site, the_plan.ready
    if batch == 1:
        for action in ready:
            backend.execute(site, action)
        return
    for start in range(0, len(ready), batch):
        outcome = backend.execute_batch(site, ready[start : start + batch])
        assert outcome.error is None, outcome.error


def settle(
    backend: SandboxBackend,
    desired: SiteSpec,
    rng: random.Random,
    fail_some: bool,
    batch: int = 1,
    rounds: int = 3,
) -> None:
    """Apply in rounds while the carrier activates (and maybe fails) a random part."""
    site = desired.site.id
    for _ in range(rounds):
        apply_ready(
            backend,
            plan(desired, backend.read_state(site), LIFTED, catalogue=backend.catalogue()),
            batch,
        )
        pending = [
            f"{kind}/{ident}"
            for kind in ("user", "hunt_group", "call_centre")
            for ident, c in backend.read_state(site).section(kind).items()
            if c.lifecycle == "pending"
        ]
        chosen = [p for p in pending if rng.random() < 0.6]
        if fail_some and chosen and rng.random() < 0.3:
            backend.fail(site, chosen[:1])
            chosen = chosen[1:]
        if chosen:
            backend.activate(site, chosen)
