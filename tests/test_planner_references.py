"""Planner rules that tie objects together, through `onenet plan` on a built site:
a group a deactivated user still transfers to stays, and a call centre's edition
goes up only after its agents' options."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLE

TRANSFER = '      transfer_to: "030 12345606"\n      caller: presses-key'


def build(onenet, site: Path) -> None:
    """`site` applied, every user and group activated, applied again."""
    assert onenet("apply", str(site), "--yes").code in (0, 3)
    assert onenet("sandbox", "activate", "--site", "berlin-hq", "--all").code == 0
    assert onenet("apply", str(site), "--yes").code == 0


def test_a_group_a_deactivated_user_transfers_to_is_not_deleted(onenet, workdir: Path) -> None:
    text = EXAMPLE.read_text()
    assert TRANSFER in text  # karl, deactivated, sends his callers on
    text = text.replace(TRANSFER, TRANSFER.replace("12345606", "12345650"))  # to sales
    (workdir / "site.yaml").write_text(text)
    build(onenet, workdir / "site.yaml")
    without_sales = text[: text.index("  sales:")] + text[text.index("  service-desk:") :]
    (workdir / "smaller.yaml").write_text(without_sales)
    result = onenet("plan", "smaller.yaml", "--allow-delete", "--detailed-exitcode")
    assert result.code == 4
    assert (
        "  - hunt_group/sales delete [blocked: deactivated user karl still transfers to "
        "+493012345650]"
    ) in result.out


def test_a_call_centre_edition_goes_up_after_its_agents_options(onenet, workdir: Path) -> None:
    text = EXAMPLE.read_text().replace(
        "call-centre-standard: 4, call-centre-basic: 2",
        "call-centre-standard: 4, call-centre-basic: 6",
    )
    basic = text.replace("edition: standard", "edition: basic").replace(
        "options: [call-centre-standard]", "options: [call-centre-basic]"
    )
    (workdir / "basic.yaml").write_text(basic)
    (workdir / "standard.yaml").write_text(text)
    build(onenet, workdir / "basic.yaml")
    result = onenet("plan", "standard.yaml", "--force", "--format", "json")
    assert result.code == 0, result.err
    actions = json.loads(result.out)["actions"]
    agents = [f"user/{uid}/update-config" for uid in ("anna", "ben", "hanna", "jana")]
    assert [a["id"] for a in actions] == [*agents, "call_centre/support/update"]
    assert actions[-1]["follows"] == agents
    assert {a["status"] for a in actions} == {"ready"}
    assert onenet("apply", "standard.yaml", "--force", "--yes").code == 0
