"""Reading users over OCI-P: the user list a page at a time (start index 1, at most
2,000 a page, until a short page), two requests per user many to a document, and
the same records the sandbox reports; licences are the limited service packs."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.backends.ocip import codec, user_reading
from onenet_apply.model.state import Lifecycle
from tests.ocip_kit import DocumentTap
from tests.ocip_users_kit import Loop, loop
from tests.test_safety_promises import SITE, site_file

LIST = "UserGetListInGroupPagedSortedListRequest"


def seeded(tmp_path: Path, users: int, tap: DocumentTap) -> Loop:
    kit = loop(tmp_path, taps=[tap])
    kit.sandbox.seed(site_file(tmp_path / "site.yaml", range(users), desk_phone=True))
    return kit


def read(kit: Loop, **paging: int) -> dict[str, object]:
    return dict(user_reading.read_users(kit.backend.site(SITE), kit.backend.mapping, **paging))


@pytest.mark.parametrize("users,pages", [(25, 3), (20, 3), (9, 1), (0, 1)])
def test_pages_until_a_short_one(
    tmp_path: Path, users: int, pages: int, sent_documents: DocumentTap
) -> None:
    kit = (
        seeded(tmp_path, users, sent_documents) if users else loop(tmp_path, taps=[sent_documents])
    )
    if not users:
        kit.sandbox.configure(SITE)
    sent = len(kit.sent)
    got = read(kit, page_size=10)
    assert got == dict(kit.sandbox.read_state(SITE).users)
    lists = [
        c.response_paging_control
        for d in kit.sent[sent:]
        for c in codec.decode(d).commands
        if type(c).__name__ == LIST
    ]
    assert [(p.response_start_index, p.response_page_size) for p in lists] == [
        (1 + 10 * n, 10) for n in range(pages)
    ]


def test_a_page_holds_at_most_2000_users(tmp_path: Path, sent_documents: DocumentTap) -> None:
    kit = seeded(tmp_path, 3, sent_documents)
    with pytest.raises(ValueError, match="1 to 2000"):
        read(kit, page_size=2001)
    sent = len(kit.sent)
    read(kit)
    (paging,) = [
        c.response_paging_control
        for d in kit.sent[sent:]
        for c in codec.decode(d).commands
        if type(c).__name__ == LIST
    ]
    assert (paging.response_start_index, paging.response_page_size) == (1, 2000)


def test_more_than_2000_users_read_in_two_pages(
    tmp_path: Path, sent_documents: DocumentTap
) -> None:
    kit = seeded(tmp_path, 2001, sent_documents)
    sent = len(kit.sent)
    got = read(kit)
    assert got == dict(kit.sandbox.read_state(SITE).users) and len(got) == 2001
    assert kit.commands()[sent:].count(LIST) == 2


def test_a_read_costs_two_requests_per_user_and_one_per_deactivated_user(
    tmp_path: Path, sent_documents: DocumentTap
) -> None:
    kit = seeded(tmp_path, 40, sent_documents)
    kit.sandbox.db.execute("UPDATE users SET lifecycle = 'deactivated' WHERE id IN ('u1', 'u2')")
    kit.sandbox.db.commit()
    kit.backend.site(SITE)  # the group's domain, read once
    sent, documents = len(kit.commands()), len(kit.sent)
    got = read(kit, page_size=2000, per_document=10)
    assert got == dict(kit.sandbox.read_state(SITE).users)
    assert {k for k, c in got.items() if c.lifecycle is Lifecycle.DEACTIVATED} == {"u1", "u2"}
    # the list, the numbers, the devices; 2 per user; 1 per deactivated user
    assert len(kit.commands()) - sent == 3 + 2 * 40 + 2
    assert len(kit.sent) - documents == 3 + 40 * 2 // 10 + 1
    with pytest.raises(ValueError, match="2 to 15"):
        read(kit, per_document=16)


def test_licences_are_the_limited_service_packs(
    tmp_path: Path, sent_documents: DocumentTap
) -> None:
    kit = seeded(tmp_path, 1, sent_documents)
    assert dict(kit.backend.read_state(SITE).licences) == {}
    kit.sandbox.configure(SITE, licences={"professional": 5, "receptionist": 2})
    assert dict(kit.backend.read_state(SITE).licences) == {"professional": 5, "receptionist": 2}
