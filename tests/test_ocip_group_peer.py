"""The loopback peer refuses group requests a real server would refuse, as
ErrorResponses and never a crash: an id of another enterprise or site, a group
that is not there, a pickup or park name it did not write, a rename to another
id, weights for someone who is not an agent, an unknown call centre type."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.backends.ocip import codec
from tests.ocip_groups_kit import OcipSite, example_site

HUNT = "sales@berlin-hq.sandbox.invalid"


@pytest.fixture
def site(tmp_path: Path) -> OcipSite:
    site, spec = example_site(tmp_path)
    site.apply(spec)
    return site


def answer(site: OcipSite, command: str, /, **fields: object) -> codec.Fault:
    (reply,) = site.channel.exchange([codec.request(command, **fields)])
    assert isinstance(reply, codec.Fault), reply
    return reply


SITE = {"service_provider_id": "sandbox", "group_id": "berlin-hq"}


@pytest.mark.parametrize(
    ("name", "fields", "words"),
    [
        ("GroupHuntGroupDeleteInstanceRequest", {"service_user_id": "sales@elsewhere"}, "not a user id of enterprise sandbox"),
        ("GroupHuntGroupDeleteInstanceRequest", {"service_user_id": "nobody@berlin-hq.sandbox.invalid"}, "no hunt_group nobody"),
        ("GroupHuntGroupGetInstanceRequest20", {"service_user_id": "nobody@berlin-hq.sandbox.invalid"}, "no hunt group nobody"),
        ("GroupCallPickupGetInstanceListRequest", {"service_provider_id": "acme", "group_id": "berlin-hq"}, "no service provider acme"),
        ("GroupCallPickupDeleteInstanceRequest", {**SITE, "name": "Floor 2"}, "names pickup and park groups `NAME [ID]`"),
        ("GroupCallPickupModifyInstanceRequest", {**SITE, "name": "Floor 2 [floor-2]", "new_name": "Floor 2 [floor-3]"}, "names another group than floor-2"),
        ("GroupCallPickupGetInstanceRequest", {**SITE, "name": "Old Name [floor-2]"}, "no call pickup or park group 'Old Name [floor-2]'"),
        ("GroupHuntGroupModifyInstanceWeightedCallDistributionRequest", {"service_user_id": "service-desk@berlin-hq.sandbox.invalid", "agent_weight": [codec.value("HuntAgentWeight", agent_user_id="ben@berlin-hq.sandbox.invalid", weight=100)]}, "ben not an agent of hunt group service-desk [weights]"),
        ("GroupCallCenterModifyInstanceRequest22", {"service_user_id": "support@berlin-hq.sandbox.invalid", "type": "Premium"}, "unknown call centre type 'Premium'"),
        ("GroupCallPickupModifyInstanceRequest", {**SITE, "name": "Floor 2 [floor-2]", "user_id_list": codec.value("ReplacementUserIdList", user_id=["anna@hamburg.sandbox.invalid"])}, "anna@hamburg.sandbox.invalid is not a user of group berlin-hq"),
    ],
)  # fmt: skip
def test_the_peer_refuses_with_an_error_response(
    site: OcipSite, name: str, fields: dict[str, object], words: str
) -> None:
    before = site.sandbox_groups()
    fault = answer(site, name, **fields)
    assert words in fault.summary
    assert site.sandbox_groups() == before


def test_the_site_timer_of_a_site_without_park_groups_is_the_default(site: OcipSite) -> None:
    (reply,) = site.channel.exchange(
        [codec.request("GroupCallParkGetRequest16sp2", service_provider_id="sandbox", group_id="x")]
    )
    assert reply.recall_timer_seconds == 120


def test_a_member_table_names_each_member_in_the_group_s_order(site: OcipSite) -> None:
    """The agent table of a hunt group: each member's user id and names, read for its
    members alone (not the whole site), in the group's order."""
    (reply,) = site.channel.exchange(
        [codec.request("GroupHuntGroupGetInstanceRequest20", service_user_id=HUNT)]
    )
    rows = [(r.user_id, r.last_name, r.first_name) for r in reply.agent_user_table]
    assert rows == [
        ("ben@berlin-hq.sandbox.invalid", "Müller", "Ben"),
        ("deniz@berlin-hq.sandbox.invalid", "Yılmaz", "Deniz"),
        ("georg@berlin-hq.sandbox.invalid", "Becker", "Georg"),
    ]
