"""Groups over OCI-P, against the loopback peer: every group type and action
kind goes out as requests, the sandbox's rules refuse what they refuse (named
in the answer), and the groups read back exactly as the sandbox itself reports
them, so that apply then plan is empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.sitegen import generate
from onenet_apply.backends.base import NotFoundError, RefusedError
from onenet_apply.backends.ocip import codec
from onenet_apply.model.plan import Action, Kind, Target
from onenet_apply.model.spec import NoAnswer
from onenet_apply.model.state import Lifecycle
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE
from tests.ocip_groups_kit import OcipSite, example_site, reference_groups, spec_of


@pytest.fixture
def applied(tmp_path: Path) -> OcipSite:
    """The example applied over OCI-P and activated."""
    site, spec = example_site(tmp_path)
    site.apply(spec)
    return site


def test_the_example_groups_read_back_as_the_sandbox_reports_them(tmp_path: Path) -> None:
    site, spec = example_site(tmp_path)
    site.apply(spec)
    assert site.read() == reference_groups(tmp_path, spec)
    assert site.read() == site.sandbox_groups()
    assert site.plan(spec).empty  # apply then plan: nothing left


def test_numbered_groups_are_pending_until_the_carrier_activates_their_number(
    tmp_path: Path,
) -> None:
    site, spec = example_site(tmp_path)
    outcome = site.backend.execute_batch(site.site, site.plan(spec).ready)
    assert outcome.error is None
    read = site.read()
    assert read == site.sandbox_groups()
    assert read["hunt_groups"]["sales"].lifecycle is Lifecycle.PENDING
    assert read["call_centres"]["support"].lifecycle is Lifecycle.PENDING
    assert read["call_pickup_groups"]["floor-2"].lifecycle is Lifecycle.ACTIVATED
    assert read["call_park_groups"]["reception"].lifecycle is Lifecycle.ACTIVATED
    site.sandbox.activate(site.site)
    assert site.read()["hunt_groups"]["sales"].lifecycle is Lifecycle.ACTIVATED


EDITED = {
    # every setting of every group type changes, and every list
    "name: Sales\n": "name: Sales Team\n",
    "policy: circular": "policy: regular",
    'no_answer: {rings: 4, forward_to: "030 12345606", timeout: 60}': "no_answer: {rings: 7}",
    "members: [hanna, ivan, jana]\n    weights: {hanna: 50, ivan: 25, jana: 25}": "members: [jana, hanna]\n    weights: {hanna: 30, jana: 70}",
    "edition: standard": "edition: basic",
    "agents: [anna, ben, hanna, jana]": "agents: [jana, deniz]",
    "supervisors: [carla, lena]": "supervisors: [lena]",
    "name: Floor 2": "name: Second Floor",
    "members: [anna, ben, carla, deniz]": "members: [deniz, ivan]",
    "name: Reception": "name: Front Desk",
    "members: [frieda, carla, anna]": "members: [anna, frieda]",
    "recall_timer: 120": "recall_timer: 300",
}


def test_every_setting_and_list_of_every_type_changes_and_reads_back(
    applied: OcipSite, tmp_path: Path
) -> None:
    text = EXAMPLE.read_text()
    for old, new in EDITED.items():
        assert old in text, old
        text = text.replace(old, new)
    spec = spec_of(text, tmp_path)
    kinds = {a.kind for a in applied.plan(spec).ready}
    assert kinds == {Kind.UPDATE, Kind.SET_MEMBERS}
    applied.apply(spec)
    assert applied.read() == reference_groups(tmp_path, spec)
    assert applied.plan(spec).empty


def test_a_renamed_pickup_or_park_group_keeps_its_members(applied: OcipSite) -> None:
    before = applied.read()
    applied.execute(Kind.UPDATE, "call_pickup_group", "floor-2", name="Floor Two")
    applied.execute(Kind.UPDATE, "call_park_group", "reception", name="Lobby (main) [old]")
    after = applied.read()
    assert after == applied.sandbox_groups()
    assert after["call_pickup_groups"]["floor-2"].item.name == "Floor Two"
    assert after["call_pickup_groups"]["floor-2"].item.members == (
        before["call_pickup_groups"]["floor-2"].item.members
    )
    park = after["call_park_groups"]["reception"].item
    assert (park.name, park.members, park.recall_timer) == (
        "Lobby (main) [old]",
        ("frieda", "carla", "anna"),
        120,
    )


def test_every_group_type_is_deleted(applied: OcipSite) -> None:
    for group_type, group_id in (
        ("hunt_group", "sales"),
        ("hunt_group", "service-desk"),
        ("call_centre", "support"),
        ("call_pickup_group", "floor-2"),
        ("call_park_group", "reception"),
    ):
        applied.execute(Kind.DELETE, group_type, group_id)
    assert (
        applied.read()
        == applied.sandbox_groups()
        == {
            "hunt_groups": {},
            "call_centres": {},
            "call_pickup_groups": {},
            "call_park_groups": {},
        }
    )


@pytest.mark.parametrize(
    "no_answer",
    [
        {"rings": 3, "forward_to": None, "timeout": None},
        {"rings": None, "forward_to": "+493012345606", "timeout": None},
        {"rings": None, "forward_to": "+493012345606", "timeout": 0},
        {"rings": 20, "forward_to": "+493012345606", "timeout": 7200},
        None,
    ],
)
def test_no_answer_round_trips(applied: OcipSite, no_answer: dict | None) -> None:
    applied.execute(Kind.UPDATE, "hunt_group", "sales", no_answer=no_answer)
    read = applied.read()
    assert read == applied.sandbox_groups()
    expected = NoAnswer(**no_answer) if no_answer else None
    assert read["hunt_groups"]["sales"].item.no_answer == expected


def test_weights_round_trip_alone_and_with_the_members(applied: OcipSite) -> None:
    members = ["hanna", "ivan", "jana"]
    start = len(applied.documents)
    alone = Action.make(
        Kind.SET_MEMBERS,
        Target("hunt_group", "service-desk"),
        {
            "members": (members, members),
            "weights": (
                {"hanna": 50, "ivan": 25, "jana": 25},
                {"hanna": 0, "ivan": 40, "jana": 60},
            ),
        },
    )  # members kept: the weights alone
    applied.backend.execute(applied.site, alone)
    assert b"WeightedCallDistributionRequest" in applied.documents[start]
    assert dict(applied.read()["hunt_groups"]["service-desk"].item.weights) == {
        "hanna": 0,
        "ivan": 40,
        "jana": 60,
    }
    applied.execute(
        Kind.SET_MEMBERS,
        "hunt_group",
        "service-desk",
        members=["ben", "hanna"],
        weights={"ben": 99, "hanna": 1},
    )  # members and weights in one command
    read = applied.read()
    assert read == applied.sandbox_groups()
    group = read["hunt_groups"]["service-desk"].item
    assert (group.members, dict(group.weights)) == (("ben", "hanna"), {"ben": 99, "hanna": 1})


def refused(site: OcipSite, kind: Kind, group_type: str, group_id: str, **values: object) -> str:
    before = site.sandbox_groups()
    with pytest.raises(RefusedError) as error:
        site.execute(kind, group_type, group_id, **values)
    assert site.sandbox_groups() == before  # nothing changed
    return str(error.value)


def test_the_sandbox_rules_refuse_over_ocip_naming_the_rule(
    applied: OcipSite, tmp_path: Path
) -> None:
    site = applied
    # a pending user joins no hunt group or call centre
    spec = spec_of(EXAMPLE.read_text(), tmp_path)
    site.sandbox.execute(site.site, Action.make(Kind.DELETE, Target("user", "emil")))
    site.create_pending_user(spec, "emil")
    assert "[lifecycle:membership]" in refused(
        site, Kind.SET_MEMBERS, "hunt_group", "sales", members=["ben", "emil"]
    )
    # an agent needs an agent option at or above the edition
    assert "[agent-option]" in refused(
        site, Kind.SET_MEMBERS, "call_centre", "support", agents=["georg"]
    )
    # a user is in one pickup group
    message = refused(
        site, Kind.CREATE, "call_pickup_group", "floor-3", name="Floor 3", members=["anna"]
    )
    assert "[one-call-pickup-group]" in message and "floor-2" in message
    # weights sum to 100
    assert "[weights]" in refused(
        site,
        Kind.SET_MEMBERS,
        "hunt_group",
        "service-desk",
        members=["hanna", "ivan"],
        weights={"hanna": 50, "ivan": 10},
    )
    assert "OCI-P error" in message


PARKS = """
call_park_groups:
  reception:
    name: Reception
    members: [frieda, carla, anna]
    recall_timer: 120
  back-office:
    name: Back Office
    members: [ben]
    recall_timer: 120
  lobby:
    name: Lobby
    members: [deniz]
"""


def parks_spec(tmp_path: Path, reception: int = 120, back_office: int = 120):
    text = EXAMPLE.read_text()
    text = text[: text.index("call_park_groups:")] + PARKS.lstrip("\n")
    text = text.replace("recall_timer: 120\n  back", f"recall_timer: {reception}\n  back")
    text = text.replace("[ben]\n    recall_timer: 120", f"[ben]\n    recall_timer: {back_office}")
    return spec_of(text, tmp_path, f"parks-{reception}-{back_office}.yaml")


def test_park_groups_share_the_sites_recall_timer_and_one_without_keeps_none(
    tmp_path: Path,
) -> None:
    site, spec = example_site(tmp_path, parks_spec(tmp_path))
    site.apply(spec)
    parks = site.read()["call_park_groups"]
    assert parks == site.sandbox_groups()["call_park_groups"]
    assert [parks[k].item.recall_timer for k in sorted(parks)] == [120, None, 120]
    assert site.plan(spec).empty
    # every park group that states one moves to a new timer, one group at a time
    moved = parks_spec(tmp_path, 300, 300)
    site.apply(moved)
    assert site.read() == reference_groups(tmp_path, moved)
    assert site.plan(moved).empty


def test_park_groups_that_disagree_on_the_recall_timer_are_refused(tmp_path: Path) -> None:
    site, spec = example_site(tmp_path, parks_spec(tmp_path, 120, 240))
    ready = site.plan(spec).ready
    outcome = site.backend.execute_batch(site.site, ready)
    assert isinstance(outcome.error, RefusedError)
    assert outcome.error.rule == "ocip-recall-timer"
    assert "one call park recall timer per site" in str(outcome.error)
    # back-office came first and set the site's timer; reception may not change it
    assert "back-office recall after 240 s" in str(outcome.error)
    assert "reception" not in site.read()["call_park_groups"]


def test_a_name_that_cannot_hold_the_id_is_refused_before_anything_is_sent(
    applied: OcipSite,
) -> None:
    sent = len(applied.documents)
    with pytest.raises(RefusedError, match=r"at most 80 characters.*shorten the name"):
        applied.execute(Kind.CREATE, "call_pickup_group", "floor-3", name="x" * 75)
    assert len(applied.documents) == sent


def test_lists_are_emptied_and_a_site_is_created_on_its_first_write(tmp_path: Path) -> None:
    site, _ = example_site(tmp_path)
    other = OcipSite(site.sandbox, "hamburg")
    other.execute(Kind.CREATE, "call_pickup_group", "p", name="P")
    assert "hamburg" in site.sandbox.sites()
    assert other.read() == other.sandbox_groups()
    site_spec = spec_of(EXAMPLE.read_text(), tmp_path)
    site.apply(site_spec)
    for group_type, group_id, role in (
        ("hunt_group", "sales", "members"),
        ("call_centre", "support", "agents"),
        ("call_centre", "support", "supervisors"),
        ("call_pickup_group", "floor-2", "members"),
        ("call_park_group", "reception", "members"),
    ):
        site.execute(Kind.SET_MEMBERS, group_type, group_id, **{role: []})
    read = site.read()
    assert read == site.sandbox_groups()
    assert read["call_centres"]["support"].item.agents == ()
    assert read != reference_groups(tmp_path, site_spec)


def test_requests_per_group_to_create_and_to_read(applied: OcipSite, tmp_path: Path) -> None:
    """The example's 5 groups: a create and a list write each, one document each
    (pickup and park writes read their instance names first); the read is one
    document of 6 group-wide lists and 7 per-instance reads (a call centre 3)."""
    site, spec = example_site(tmp_path / "fresh")
    ready = site.plan(spec).ready
    per_action = {}
    for action in ready:
        before_docs = len(site.documents)
        site.backend.execute(site.site, action)
        per_action[action.id] = (
            len(site.documents) - before_docs,
            site.requests_sent(before_docs),
        )
    assert per_action == {
        "hunt_group/sales/create": (1, 1),
        "hunt_group/service-desk/create": (1, 1),
        "call_centre/support/create": (1, 1),
        "call_pickup_group/floor-2/create": (1, 1),
        "call_park_group/reception/create": (2, 3),  # the site's timer read, then the add
        "hunt_group/sales/set-members": (1, 1),
        "hunt_group/service-desk/set-members": (1, 1),  # members with their weights
        "call_centre/support/set-members": (1, 2),  # agents, supervisors
        "call_pickup_group/floor-2/set-members": (2, 2),
        "call_park_group/reception/set-members": (2, 2),
    }
    start = len(site.documents)
    site.read()
    assert (len(site.documents) - start, site.requests_sent(start)) == (2, 6 + 2 + 3 + 1 + 1)


def test_many_groups_read_back_in_documents_the_schema_allows(tmp_path: Path) -> None:
    """The per-instance reads fill documents up to the schema's 15 commands, no more."""
    path = tmp_path / "site.yaml"
    path.write_text("".join(generate(40, 20)))
    site, spec = example_site(tmp_path, validate_file(str(path)).spec)
    site.apply(spec)
    start = len(site.documents)
    assert site.read() == site.sandbox_groups()
    sizes = [len(codec.decode(d).commands) for d in site.documents[start:]]
    assert len(sizes) > 2 and max(sizes) == codec.MAX_COMMANDS == 15, sizes


def test_an_agent_list_replaced_whole_keeps_the_weights_of_those_who_stay(
    applied: OcipSite,
) -> None:
    """As in BroadWorks: a new agent weighs 0, so the weights still sum to 100."""
    applied.execute(
        Kind.SET_MEMBERS, "hunt_group", "service-desk", members=["jana", "hanna", "ivan", "ben"]
    )
    group = applied.read()["hunt_groups"]["service-desk"].item
    assert group.members == ("jana", "hanna", "ivan", "ben")
    assert dict(group.weights) == {"hanna": 50, "ivan": 25, "jana": 25, "ben": 0}
    # one who leaves takes weight with them: short of 100, refused
    assert "[weights]" in refused(
        applied, Kind.SET_MEMBERS, "hunt_group", "service-desk", members=["hanna", "ivan"]
    )


def test_a_create_that_carries_its_lists_sends_them_in_the_same_document(
    applied: OcipSite,
) -> None:
    """The planner writes lists apart; a create that carries them (as the sandbox
    takes one) sends them with the group, weighted members with their weights."""
    start = len(applied.documents)
    applied.execute(
        Kind.CREATE, "hunt_group", "night", name="Night", number="+493012345652",
        extension="5652", policy="weighted", no_answer=None,
        members=["ben", "ivan"], weights={"ben": 60, "ivan": 40},
    )  # fmt: skip
    applied.execute(
        Kind.CREATE, "hunt_group", "day", name="Day", number="+493012345653",
        extension="5653", policy="simultaneous", no_answer=None, members=["ben", "ivan"],
    )  # fmt: skip
    applied.execute(
        Kind.CREATE, "call_centre", "sales-line", name="Sales Line", number="+493012345661",
        extension="5661", edition="basic", agents=["deniz"], supervisors=["carla"],
    )  # fmt: skip
    assert len(applied.documents) - start == 3
    applied.sandbox.activate(applied.site)
    read = applied.read()
    assert read == applied.sandbox_groups()
    assert dict(read["hunt_groups"]["night"].item.weights) == {"ben": 60, "ivan": 40}
    assert read["call_centres"]["sales-line"].item.agents == ("deniz",)


def test_a_number_extension_and_edition_change_reads_back(applied: OcipSite) -> None:
    applied.execute(Kind.UPDATE, "hunt_group", "sales", number="+493012345652", extension="5652")
    applied.execute(Kind.UPDATE, "call_centre", "support", extension="5699")
    applied.execute(Kind.UPDATE, "call_centre", "support", name="Help")
    read = applied.read()
    assert read == applied.sandbox_groups()
    assert (
        read["hunt_groups"]["sales"].item.number,
        read["call_centres"]["support"].item.name,
    ) == (
        "+493012345652",
        "Help",
    )


def test_a_park_group_that_stops_stating_the_timer_reads_back_none(applied: OcipSite) -> None:
    applied.execute(Kind.UPDATE, "call_park_group", "reception", recall_timer=None)
    read = applied.read()
    assert read == applied.sandbox_groups()
    assert read["call_park_groups"]["reception"].item.recall_timer is None
    applied.execute(Kind.UPDATE, "call_park_group", "reception", recall_timer=90)
    assert applied.read()["call_park_groups"]["reception"].item.recall_timer == 90


def test_a_pickup_group_not_there_is_not_found_and_hand_made_ones_are_not_the_sites(
    applied: OcipSite,
) -> None:
    with pytest.raises(NotFoundError, match="no call pickup group floor-9"):
        applied.execute(Kind.DELETE, "call_pickup_group", "floor-9")
    # instances someone named by hand, outside the site file's naming: not the site's
    applied.peer.handlers["GroupCallPickupGetInstanceListRequest"] = lambda ctx, request: (
        codec.response(
            "GroupCallPickupGetInstanceListResponse", name=["Ops", "Floor 2 [floor-2]", "X [a b]"]
        )
    )
    assert list(applied.read()["call_pickup_groups"]) == ["floor-2"]
    applied.execute(Kind.SET_MEMBERS, "call_pickup_group", "floor-2", members=["ivan"])
    assert applied.sandbox_groups()["call_pickup_groups"]["floor-2"].item.members == ("ivan",)


def test_the_codec_sends_a_field_called_name_and_reads_an_empty_member_table_back() -> None:
    """Pickup and park requests have a field `name`; a group without members is
    answered with an empty table, which must decode as an empty list."""
    request = codec.request("GroupCallPickupDeleteInstanceRequest", service_provider_id="e",
                            group_id="g", name="Floor 2 [floor-2]")  # fmt: skip
    assert request.name == "Floor 2 [floor-2]"
    empty = codec.response("GroupCallPickupGetInstanceResponse", user_table=[])
    (decoded,) = codec.decode(codec.encode("s", [empty])).commands
    assert decoded.user_table == []
