"""`?mapping=FILE`: a platform's own BroadWorks names for the catalogue's words,
overriding the defaults section by section, with every mistake one line naming
the file; the backend sends the platform's names and reads them back as words."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.backends.ocip.mapping_file import MappingFileError, load
from onenet_apply.backends.ocip.services import DEFAULT_PACKS, ServiceMapping
from onenet_apply.backends.ocip.url import parse


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "names.yaml"
    path.write_text(text, "utf-8")
    return str(path)


def test_a_section_overrides_the_default_names_of_the_words_it_lists(tmp_path: Path) -> None:
    mapping = load(_file(tmp_path, "service_packs: {standard: Vodafone Standard Pack}\n"))
    assert mapping.packs["standard"] == "Vodafone Standard Pack"
    assert mapping.packs["professional"] == DEFAULT_PACKS["professional"]
    assert mapping.pack_names()["Vodafone Standard Pack"] == "standard"
    assert mapping.services == ServiceMapping.default().services


def test_an_empty_file_is_the_default(tmp_path: Path) -> None:
    assert load(_file(tmp_path, "")) == ServiceMapping.default()


def test_a_catalogue_of_its_own_needs_a_name_for_each_new_word(tmp_path: Path) -> None:
    catalogue = (
        "catalogue:\n  packages: [basic]\n  options: {}\n  services: [voicemail]\n"
        "  desk_phones: [none]\n  call_centre_editions: {basic: 1}\n"
    )
    with pytest.raises(MappingFileError, match="service_packs: no BroadWorks name for 'basic'"):
        load(_file(tmp_path, catalogue))
    mapping = load(_file(tmp_path, catalogue + "service_packs: {basic: Basic Pack}\n"))
    assert mapping.catalogue.packages == frozenset({"basic"})
    assert dict(mapping.packs) == {"basic": "Basic Pack"}
    assert dict(mapping.devices) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "write a mapping of sections"),
        ("servics: {}", "unknown section 'servics'"),
        ("services: {voicemial: X}", "services: 'voicemial' is not in the catalogue"),
        ("services: {voicemail: ''}", "write word: BroadWorks name pairs"),
        ("services: [voicemail]", "write word: BroadWorks name pairs"),
        (
            "service_packs: {standard: Same, professional: Same}",
            "'professional' and 'standard' both map to 'Same'",
        ),
        ("catalogue: {packages: []}", "catalogue: not in the shape"),
        ("services: {a: [", "names.yaml:2:1: not YAML"),
    ],
)
def test_each_mistake_is_one_line_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(MappingFileError) as refused:
        load(path)
    assert str(refused.value).startswith(path) and message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_missing_or_huge_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError, match="cannot read the mapping file"):
        load(str(tmp_path / "nowhere.yaml"))
    with pytest.raises(MappingFileError, match="over 1 MiB"):
        load(_file(tmp_path, "#" * (1 << 20) + "x"))


def test_the_url_names_the_file(tmp_path: Path) -> None:
    address = parse("ocip", "//127.0.0.1/acme?mapping=names.yaml")
    assert address.mapping == "names.yaml"
    assert parse("ocip", "//127.0.0.1/acme").mapping is None


def test_the_backend_opened_by_url_uses_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onenet_apply.backends import open_backend

    monkeypatch.setenv("ONENET_OCIP_USER", "admin")
    monkeypatch.setenv("ONENET_OCIP_PASSWORD", "never-used-here")
    path = _file(tmp_path, "services: {voicemail: Voice Messaging User Plus}\n")
    backend = open_backend(f"ocip://127.0.0.1:9/acme?mapping={path}")
    try:
        assert backend.mapping.services["voicemail"] == "Voice Messaging User Plus"
        assert backend.catalogue() == ServiceMapping.default().catalogue
    finally:
        backend.channel.close = lambda: None  # never connected: nothing to log out of
        backend.close()
    with pytest.raises(MappingFileError, match="unknown section"):
        open_backend(f"ocip://127.0.0.1:9/acme?mapping={_file(tmp_path, 'x: 1')}")


def test_requests_carry_the_platforms_names(tmp_path: Path) -> None:
    """The service pack the backend assigns is named as the file says (the peer,
    which knows only the default names, then refuses it: nothing half-done)."""
    from onenet_apply.backends.base import BackendError
    from onenet_apply.backends.ocip.backend import OcipBackend
    from onenet_apply.backends.ocip.channel import LoopbackChannel
    from onenet_apply.backends.ocip.peer.context import PeerContext
    from onenet_apply.backends.ocip.peer.dispatch import Peer
    from onenet_apply.backends.sandbox import SandboxBackend
    from onenet_apply.planning.planner import plan
    from tests.planner_kit import LIFTED, head, spec_of, user

    sent: list[bytes] = []
    peer = Peer(PeerContext(SandboxBackend(tmp_path / "peer.db", create=True), "sandbox"))
    channel = LoopbackChannel(peer.answer, taps=[sent.append])
    peer.trust(channel.connection)
    mapping = load(_file(tmp_path, "service_packs: {standard: Standard 2026}\n"))
    backend = OcipBackend(channel, "sandbox", mapping)
    desired = spec_of(head() + "users:\n" + user("anna", 1))
    [create] = plan(desired, backend.read_state("t"), LIFTED, catalogue=backend.catalogue()).ready
    with pytest.raises(BackendError):
        backend.execute("t", create)
    assigns = [d for d in sent if b"UserServiceAssignListRequest" in d]
    assert assigns and all(b"<servicePackName>Standard 2026</servicePackName>" in d for d in assigns)
    assert not backend.read_state("t").users
