"""Weighted hunt groups through `onenet validate`: every member has a weight, and only
members have one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLE

WEIGHTS = "    weights: {hanna: 50, ivan: 25, jana: 25}\n"


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        (
            "",
            "145:13: hunt_groups.service-desk.policy: a weighted hunt group needs `weights`: "
            "a weight 0-100 per member, summing to 100",
        ),
        (
            "    weights: {hanna: 50, ivan: 25, jana: 15, karl: 10}\n",
            "147:46: hunt_groups.service-desk.weights.karl: karl has a weight but is not a "
            "member of this group",
        ),
    ],
)
def test_weights_belong_to_the_members(onenet, tmp_path: Path, weights: str, problem: str) -> None:
    text = EXAMPLE.read_text()
    assert WEIGHTS in text
    site = tmp_path / "site.yaml"
    site.write_text(text.replace(WEIGHTS, weights))
    result = onenet("validate", str(site))
    assert result.code == 1
    assert result.err.splitlines() == [f"{site}:{problem}", "1 error in 1 of 1 file"]
