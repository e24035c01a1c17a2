"""Ordering follows the backend's catalogue, not the one the tool ships."""

from __future__ import annotations

from pathlib import Path

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.catalogue import Catalogue, default_catalogue
from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.planner import plan
from onenet_apply.sitefile.validate import validate_file
from tests.planner_kit import LIFTED, head

# the same two agent levels under other option names, as another platform spells them
RENAMED = Catalogue.from_dict(
    {
        **default_catalogue().to_dict(),
        "options": {"cc-agent": {"agent_level": 1}, "cc-agent-plus": {"agent_level": 2}},
    }
)


def _site(tmp: Path, options: str, agents: str) -> SiteSpec:
    text = head() + (
        "users:\n"
        '  anna: {first_name: Anna, last_name: X, number: "030 12345601", '
        f"package: standard, options: {options}}}\n"
        "call_centres:\n"
        '  support: {name: Support, number: "030 12345660", edition: basic, '
        f"agents: {agents}}}\n"
    )
    path = tmp / "site.yaml"
    path.write_text(text)
    result = validate_file(str(path), RENAMED)
    assert result.spec is not None, [p.format() for p in result.problems]
    return result.spec


def test_an_agent_leaves_its_centre_before_losing_the_option_the_backend_names(
    tmp_path: Path,
) -> None:
    backend = SandboxBackend(tmp_path / "sandbox.db", catalogue=RENAMED)
    before = _site(tmp_path, "[cc-agent]", "[anna]")
    for _ in range(2):
        for action in plan(
            before, backend.read_state("t"), LIFTED, catalogue=backend.catalogue()
        ).ready:
            backend.execute("t", action)
        backend.activate("t")
    after = _site(tmp_path, "[]", "[]")

    the_plan = plan(after, backend.read_state("t"), LIFTED, catalogue=backend.catalogue())

    ids = [a.id for a in the_plan.ready]
    assert ids.index("call_centre/support/set-members") < ids.index("user/anna/update-config")
    for action in the_plan.ready:  # the backend refuses the other order ([agent-option])
        backend.execute("t", action)
    assert plan(after, backend.read_state("t"), LIFTED, catalogue=RENAMED).empty


def test_the_shipped_catalogue_would_not_know_these_options_are_agent_options(
    tmp_path: Path,
) -> None:
    """Why the order above needs the backend's catalogue: with the shipped one the
    option drop is not an agent change, so nothing orders it after the list write."""
    backend = SandboxBackend(tmp_path / "sandbox.db", catalogue=RENAMED)
    before = _site(tmp_path, "[cc-agent]", "[anna]")
    for _ in range(2):
        for action in plan(before, backend.read_state("t"), LIFTED, catalogue=RENAMED).ready:
            backend.execute("t", action)
        backend.activate("t")
    after = _site(tmp_path, "[]", "[]")
    shipped = plan(after, backend.read_state("t"), LIFTED, catalogue=default_catalogue())
    ids = [a.id for a in shipped.ready]
    assert ids.index("user/anna/update-config") < ids.index("call_centre/support/set-members")
