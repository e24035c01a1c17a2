"""What BroadWorks cannot hold of pickup and park groups is refused at review: a plan
against an OCI-P backend names the site file's line and column, and an apply changes
nothing, where before the apply stopped half way with `ocip-instance-name` or
`ocip-recall-timer`. The sandbox has neither limit, so `onenet validate` (offline,
the sandbox's catalogue) lets both through."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import test_ocip_walkthrough as walkthrough
from tests.conftest import EXAMPLE

served = walkthrough.served  # the peer in its own process, serving a sandbox file

LONG_NAME = "A pickup group whose display name fills nearly all of the eighty chars."
SECOND_PARK = "  back-office:\n    name: Back Office\n    members: [ben]\n    recall_timer: 240\n"


def _site(workdir: Path, text: str) -> Path:
    site = workdir / "site.yaml"
    site.write_text(text)
    return site


def _line_of(site: Path, needle: str) -> int:
    return next(n for n, line in enumerate(site.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("change", "needle", "says"),
    [
        (
            lambda text: text.replace("    name: Floor 2\n", f"    name: {LONG_NAME}\n"),
            LONG_NAME,
            r"call_pickup_groups\.floor-2\.name: the platform names a pickup group in at most "
            r"80 characters, and `.* \[floor-2\]` \(name and id\) has 81: shorten the name",
        ),
        (
            lambda text: text.replace(
                "    recall_timer: 120\n", "    recall_timer: 120\n" + SECOND_PARK
            ),
            "recall_timer: 240",
            r"call_park_groups\.back-office\.recall_timer: the platform keeps one call park "
            r"recall timer per site, and park group reception recalls after 120 s",
        ),
    ],
    ids=["name-too-long", "two-recall-timers"],
)
def test_a_group_the_platform_cannot_hold_is_refused_at_review(
    onenet, workdir: Path, served: walkthrough.Served, change, needle: str, says: str
) -> None:  # type: ignore[no-untyped-def]
    site = _site(workdir, change(EXAMPLE.read_text()))
    assert len(f"{LONG_NAME} [floor-2]") == 81
    line = _line_of(site, needle)
    offline = onenet("validate", str(site))
    assert offline.code == 0, offline.err  # offline, against the sandbox: it holds both
    for command in (("plan", str(site)), ("apply", str(site), "--yes")):
        result = onenet(*command)
        assert result.code == 1, result.out
        assert re.search(rf"{re.escape(str(site))}:{line}:\d+: {says}", result.err), result.err
        assert "Traceback" not in result.err
    assert not served.sandbox().read_state("berlin-hq").exists  # nothing was applied


def test_a_name_of_exactly_the_limit_and_timers_that_agree_are_planned(
    onenet, workdir: Path, served: walkthrough.Served
) -> None:
    text = EXAMPLE.read_text().replace("    name: Floor 2\n", f"    name: {LONG_NAME[:-1]}\n")
    text = text.replace(
        "    recall_timer: 120\n", "    recall_timer: 120\n" + SECOND_PARK.replace("240", "120")
    )
    result = onenet("plan", str(_site(workdir, text)), "--detailed-exitcode")
    assert result.code == 2, result.err
    assert f'name: "{LONG_NAME[:-1]}"' in result.out and "back-office create" in result.out
