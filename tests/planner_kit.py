"""Build planner inputs quickly: specs from YAML text, states from specs."""

from __future__ import annotations

import tempfile
from pathlib import Path

from onenet_apply.plan import Plan
from onenet_apply.planner import PlanOptions, plan
from onenet_apply.spec import SiteSpec, frozen_map
from onenet_apply.state import SECTION_OF, Current, Lifecycle, SiteState
from onenet_apply.validate import validate_file

HEAD = """version: 1
site:
  id: t
  name: T
  country: DE
  number_pool: ["+493012345600-+493012345699"]
  policy: {allow_delete: %s, max_change_percent: 100}
%s
"""


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
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "site.yaml"
        path.write_text(HEAD % ("true" if allow_delete else "false", site_extra) + body)
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
    return plan(desired, current, PlanOptions(**options))


def summary(p: Plan) -> list[tuple[str, str]]:
    return [(a.id, str(a.status)) for a in p.actions]
