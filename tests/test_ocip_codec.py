"""The OCI-P codec: several commands per document, ErrorResponse kept whole
(its Warning type included), the library's empty-list bug refused, hostile XML
refused, and documents split from a byte stream."""

from __future__ import annotations

import pytest

from onenet_apply.backends.ocip import codec


def _user_add() -> object:
    return codec.request(
        "UserAddRequest22V2",
        service_provider_id="sandbox",
        group_id="acme",
        user_id="anna@acme.example",
        last_name="Lee",
        first_name="Zoë",
        calling_line_id_last_name="Lee",
        calling_line_id_first_name="Zoë",
        phone_number="2079460001",
        extension="0001",
    )


def test_a_document_carries_several_commands_in_order() -> None:
    assign = codec.request(
        "UserServiceAssignListRequest", user_id="anna@acme.example", service_pack_name=["x", "y"]
    )
    document = codec.decode(codec.encode("s-1", [_user_add(), assign]))
    assert document.session_id == "s-1"
    assert [c.type_ for c in document.commands] == [
        "UserAddRequest22V2",
        "UserServiceAssignListRequest",
    ]
    assert document.commands[0].first_name == "Zoë"  # beyond ISO-8859-1's ASCII half
    assert document.commands[1].service_pack_name == ["x", "y"]


def test_error_response_keeps_code_detail_and_warning_type() -> None:
    warning = codec.Fault("[Error 4008] partly", "[Error 4008] partly", 4008, "detail", "Warning")
    document = codec.decode(codec.encode("s", [codec.success(), warning]))
    assert document.commands[1] == warning
    assert document.commands[1].is_warning
    assert document.commands[1].describe() == "[Error 4008] partly [OCI-P error 4008]"
    assert not codec.Fault("x").is_warning


def test_an_empty_list_is_refused_not_sent_as_nil_on_the_command() -> None:
    empty = codec.request("UserServiceAssignListRequest", user_id="a@b", service_pack_name=[])
    with pytest.raises(codec.CodecError, match="empty list"):
        codec.encode("s", [empty])


def test_requests_responses_and_types_are_told_apart() -> None:
    with pytest.raises(codec.CodecError, match="not a OCIRequest"):
        codec.request("SuccessResponse")
    with pytest.raises(codec.CodecError, match="unknown OCI-P"):
        codec.request("NoSuchRequest")
    with pytest.raises(codec.CodecError, match="UserDeleteRequest"):
        codec.request("UserDeleteRequest", no_such_field=1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<not xml", "not an XML document"),
        (b"<other/>", "not an OCI-P document"),
        (
            b'<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<BroadsoftDocument xmlns="C" protocol="OCI"><sessionId xmlns="">&e;</sessionId>'
            b"</BroadsoftDocument>",
            "",
        ),
        (b'<BroadsoftDocument xmlns="C"><command xmlns=""/></BroadsoftDocument>', "xsi:type"),
    ],
)
def test_hostile_or_foreign_documents_are_refused(data: bytes, message: str) -> None:
    try:
        document = codec.decode(data)
    except codec.CodecError as e:
        assert message in str(e)
    else:  # the entity is not resolved: nothing of the file comes in
        assert "root" not in document.session_id


def test_documents_are_split_from_a_stream() -> None:
    one = codec.encode("a", [codec.success()])
    two = codec.encode("b", [codec.success()])
    documents, rest = codec.split_documents(one + b"\n" + two + b"\n" + two[:10])
    assert [codec.decode(d).session_id for d in documents] == ["a", "b"]
    assert rest == b"\n" + two[:10]


def test_element_tables_are_built_once_per_class_nested_types_included() -> None:
    """The library rebuilds a class's table of ElementInfo on every encode and decode
    (its largest cost per request): the codec computes it once per class, for the
    types a class holds too, and requests still round-trip whole."""
    cls = codec.command_class("UserAddRequest22V2")
    assert cls._elements() is cls._elements()
    nested = {i.name: i.type for i in cls._elements()}["address"]  # a StreetAddress
    assert nested._elements() is nested._elements()
    again = codec.decode(codec.encode("s", [_user_add(), _user_add()])).commands
    assert [c.last_name for c in again] == ["Lee", "Lee"]


def _table_reply(rows: list[tuple[str, str]]) -> bytes:
    cells = "".join(f"<row><col>{a}</col><col>{b}</col></row>" for a, b in rows)
    return (
        b'<?xml version="1.0" encoding="ISO-8859-1"?><BroadsoftDocument protocol="OCI" '
        b'xmlns="C" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b'<sessionId xmlns="">s</sessionId><command echo="" xsi:type="UserServiceGetAssignment'
        b'ListResponse" xmlns=""><servicePacksAssignmentTable><colHeading>Service Pack Name'
        b"</colHeading><colHeading>Assigned</colHeading>"
        + cells.encode()
        + b"</servicePacksAssignmentTable><userServicesAssignmentTable><colHeading>Service Name"
        b"</colHeading><colHeading>Assigned</colHeading></userServicesAssignmentTable>"
        b"</command></BroadsoftDocument>"
    )


def test_tables_of_one_heading_share_one_row_class() -> None:
    """A table decodes to rows named by its snake-cased columns, as the library
    decodes it, but without a new namedtuple class for every table it reads."""
    (first,) = codec.decode(_table_reply([("Pro", "true"), ("Std", "false")])).commands
    (second,) = codec.decode(_table_reply([("Pro", "true")])).commands
    rows = first.service_packs_assignment_table
    assert [(r.service_pack_name, r.assigned) for r in rows] == [("Pro", "true"), ("Std", "false")]
    assert type(rows[0]) is type(second.service_packs_assignment_table[0])
    assert first.user_services_assignment_table == []


def test_a_response_missing_what_its_type_requires_is_a_codec_error() -> None:
    """An answer of the right type with nothing in it (a broken or hostile server) is
    a reply that is not OCI-P, which the transport reports in one line, never the
    library's own exception and its traceback."""
    from lxml import etree

    document = etree.fromstring(codec.encode("s", [codec.success()]))
    command = document.find("command")
    command.set("{http://www.w3.org/2001/XMLSchema-instance}type", "UserGetResponse23V2")
    with pytest.raises(codec.CodecError, match=r"UserGetResponse23V2: "):
        codec.decode(etree.tostring(document))
