"""Groups whose id matches `site.unmanaged` are never touched, through `onenet plan`."""

from __future__ import annotations

from pathlib import Path

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Kind
from tests.conftest import EXAMPLE
from tests.sandbox_kit import act, group_values
from tests.test_planner_references import build


def test_an_unmanaged_group_on_the_backend_is_left_alone(onenet, workdir: Path) -> None:
    build(onenet, EXAMPLE)
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    night = group_values("hunt_group", 90, number="+493012345690", extension="5690")
    backend.execute("berlin-hq", act(Kind.CREATE, "hunt_group", "svc-night", **night))
    backend.close()
    result = onenet("plan", str(EXAMPLE), "--allow-delete", "--detailed-exitcode")
    assert result.code == 0, result.out
    assert result.out == "No changes. Site berlin-hq matches the site file.\n"
