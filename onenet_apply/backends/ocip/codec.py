"""OCI-P documents in and out: broadworks-ocip's generated classes, our own framing.

broadworks-ocip (pinned) knows every request, response and type of the R25
schema; this module uses it only as a codec and works around what it gets
wrong for us:

- a document carries several commands (the library writes and reads one);
- an `ErrorResponse` keeps its `type` attribute (Error / Warning / Info), which
  the library drops, and decodes to a `Fault` instead of raising;
- an empty table (a response) would be left out, so the response could not be
  read back: it is written as a table without rows;
- an empty list would be written as `xsi:nil` on the command itself, which the
  schema rejects: encoding refuses it (pass None to leave a list out, or `NULL`
  with the Replacement* list types to clear one);
- decoding parses with entities, DTDs and network access off: the peer reads
  documents from whoever connects;
- the library rebuilds a class's element table on every call of `_elements`
  (each build, encode and decode makes dozens of `ElementInfo`s) and a new
  namedtuple class for every table it decodes: `command_class` gives each class
  (and the types it holds) its table once, and tables reuse one row class per
  heading (decoding a read's replies takes about a third of the time it did).
"""

from __future__ import annotations

import logging
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from broadworks_ocip import base as _base
from broadworks_ocip import exceptions as _exceptions
from broadworks_ocip import requests as _requests
from broadworks_ocip import responses as _responses
from broadworks_ocip import types as _types
from lxml import etree
from null_object import Null

NULL = Null  # the library's nil marker: clears a field or a Replacement* list
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
XSI_NIL = f"{{{XSI}}}nil"
DOCUMENT_TAG = "{C}BroadsoftDocument"
END_OF_DOCUMENT = b"</BroadsoftDocument>"
MAX_COMMANDS = 15  # commands in one document: the R25 schema's maxOccurs (OCIMessage)
ENCODING = "ISO-8859-1"  # OCI-P's default; other characters go out as references

OCICommand = _base.OCICommand
OCIRequest = _base.OCIRequest
OCIResponse = _base.OCIResponse
OCIType = _base.OCIType

# the library logs at ERROR while decoding abstract types and may log requests:
# nothing of it may reach a terminal (a request can carry a password)
for _name in ("broadworks_ocip", "broadworks_ocip.base", "broadworks_ocip.api"):
    _logger = logging.getLogger(_name)
    _logger.addHandler(logging.NullHandler())
    _logger.propagate = False

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=True
)


class CodecError(ValueError):
    """A document that is not OCI-P, or a command or type nobody knows."""


@dataclass(frozen=True, slots=True)
class Fault:
    """An `ErrorResponse`: the server refused (Error) or half-did (Warning) a command."""

    summary: str
    summary_english: str = ""
    code: int | None = None
    detail: str | None = None
    kind: str = "Error"  # Error | Warning | Info

    @property
    def is_warning(self) -> bool:
        return self.kind == "Warning"

    @property
    def words(self) -> str:
        """The server's own words (BroadWorks starts them with `[Error CODE]`)."""
        return self.summary_english or self.summary

    def describe(self) -> str:
        """The server's own words, with its code: what a refusal shows the user."""
        code = f" [OCI-P error {self.code}]" if self.code is not None else ""
        return f"{self.words}{code}"


Answer = OCIResponse | Fault


@dataclass(frozen=True, slots=True)
class Document:
    session_id: str
    commands: tuple[Any, ...]  # OCICommand instances, or Fault for ErrorResponse


@cache
def command_class(name: str) -> type[Any]:
    """The generated class of request, response or type `name` (CodecError if none),
    its element table computed once."""
    for module in (_requests, _responses, _types):
        found = getattr(module, name, None)
        if isinstance(found, type) and issubclass(found, OCIType):
            _fix_elements(found)
            return found
    if name in ("SuccessResponse", "ErrorResponse"):
        return getattr(_base, name)  # type: ignore[no-any-return]
    raise CodecError(f"unknown OCI-P command or type {name!r}")


@cache
def response_name(request_name: str) -> str:
    """The response a request is answered with (an ErrorResponse aside): its own
    `...Response...` where the schema defines one (`UserGetRequest23V2` ->
    `UserGetResponse23V2`), else `SuccessResponse`."""
    stem, found, version = request_name.rpartition("Request")
    own = f"{stem}Response{version}"
    return own if found and isinstance(getattr(_responses, own, None), type) else "SuccessResponse"


_FIXED: set[type[Any]] = set()


def _fix_elements(cls: type[Any]) -> None:
    """Replace `_elements` of `cls` and of every type its elements hold by the table
    it returns, computed once: the generated method builds the same constant tuple
    of frozen `ElementInfo`s on every call. Every generated class defines its own
    `_elements`, so a class never sees another's table."""
    pending = [cls]
    while pending:
        current = pending.pop()
        if current in _FIXED:
            continue
        table = current._elements()
        current._elements = classmethod(lambda _cls, table=table: table)
        _FIXED.add(current)
        infos = list(table)
        while infos:
            info = infos.pop()
            if info.is_container:
                infos.extend(info.type)
            elif isinstance(info.type, type) and issubclass(info.type, OCIType):
                pending.append(info.type)


@lru_cache(maxsize=256)  # bounded: the headings come from whoever sent the document
def _row_class(tag: str, columns: tuple[str, ...]) -> type[Any]:
    return namedtuple(tag, columns)  # type: ignore[misc]


def _decode_table(cls: type[Any], element: Any) -> list[Any]:
    """The library's `decode_table_` (a namedtuple per row, columns in snake case),
    with one row class per table heading instead of a new class per table."""
    heading = tuple(cls.column_header_snake_case_(c.text) for c in element.iterfind("colHeading"))
    row_class = _row_class(element.tag, heading)
    return [row_class(*(c.text for c in row.iterfind("col"))) for row in element.iterfind("row")]


OCIType.decode_table_ = classmethod(_decode_table)  # type: ignore[method-assign,assignment]


def request(name: str, /, **fields: Any) -> Any:
    """A request object, checked against its generated class as it is built."""
    return _build(name, fields, OCIRequest)


def response(name: str, /, **fields: Any) -> Any:
    return _build(name, fields, OCIResponse)


def value(type_name: str, /, **fields: Any) -> Any:
    """A complex value (e.g. `ServiceInstanceAddProfile`) to put in a request."""
    return _build(type_name, fields, OCIType)


def success() -> Any:
    return _base.SuccessResponse()


def _build(name: str, fields: dict[str, Any], kind: type[Any]) -> Any:
    cls = command_class(name)
    if not issubclass(cls, kind):
        raise CodecError(f"{name!r} is not a {kind.__name__}")
    given = {k: v for k, v in fields.items() if v is not None}  # None: left out
    try:
        return cls(**given)
    except (TypeError, ValueError, _exceptions.OCIError) as e:
        raise CodecError(f"{name}: {e}") from None


def encode(session_id: str, commands: Sequence[Any]) -> bytes:
    """One document carrying `commands` in order (requests, responses or Faults)."""
    root = etree.Element(DOCUMENT_TAG, {"protocol": "OCI"}, nsmap={None: "C", "xsi": XSI})
    session = etree.SubElement(root, "sessionId", nsmap={None: ""})
    session.text = session_id
    for command in commands:
        if isinstance(command, Fault):
            _fault_element(root, command)
            continue
        element = command.build_xml_command_element_(root)
        command.etree_sub_components_(element)
        _empty_tables(command, element)
        if element.get(XSI_NIL) is not None:
            raise CodecError(
                f"{command.type_}: an empty list cannot be sent; leave it out (None) or clear it (NULL)"
            )
    return bytes(etree.tostring(root, xml_declaration=True, encoding=ENCODING))


def _empty_tables(command: Any, element: Any) -> None:
    """Write an empty table (a group without members) as an element without rows: the
    library leaves it out, and then cannot read its own response back."""
    for info in command._elements():
        if info.is_table and getattr(command, info.name) == []:
            etree.SubElement(element, info.xmlname, nsmap={None: ""})


def _fault_element(root: Any, fault: Fault) -> None:
    element = etree.SubElement(
        root,
        "command",
        {"type": fault.kind, "echo": "", XSI_TYPE: "c:ErrorResponse"},
        nsmap={"c": "C", None: ""},
    )
    if fault.code is not None:
        etree.SubElement(element, "errorCode").text = str(fault.code)
    etree.SubElement(element, "summary").text = fault.summary
    etree.SubElement(element, "summaryEnglish").text = fault.summary_english or fault.summary
    if fault.detail is not None:
        etree.SubElement(element, "detail").text = fault.detail


class _TypeLookup:
    """What the library's decoder asks of its API object: classes by name."""

    @staticmethod
    def get_type_class(name: str) -> type[Any]:
        return command_class(name.rpartition(":")[2])


def decode(data: bytes) -> Document:
    """Every command of one document, in order; an ErrorResponse becomes a Fault."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise CodecError(f"not an XML document: {e}") from None
    if root.tag != DOCUMENT_TAG:
        raise CodecError(f"not an OCI-P document (root element {root.tag!r})")
    session_id = ""
    commands: list[Any] = []
    for element in root:
        if element.tag == "sessionId":
            session_id = element.text or ""
        elif element.tag == "command":
            commands.append(_decode_command(element, session_id))
    return Document(session_id, tuple(commands))


def _decode_command(element: Any, session_id: str) -> Any:
    name = (element.get(XSI_TYPE) or "").rpartition(":")[2]
    if not name:
        raise CodecError("a command without xsi:type")
    if name == "ErrorResponse":
        code = element.findtext("errorCode")
        return Fault(
            summary=element.findtext("summary") or "",
            summary_english=element.findtext("summaryEnglish") or "",
            code=int(code) if code and code.strip().isdigit() else None,
            detail=element.findtext("detail"),
            kind=element.get("type") or "Error",
        )
    cls = command_class(name)
    try:
        return cls.build_from_etree_(
            api=_TypeLookup, element=element, extras={"session_id": session_id}
        )
    except (TypeError, ValueError, KeyError, _exceptions.OCIError) as e:  # e.g. a field missing
        raise CodecError(f"{name}: {e}") from None


def split_documents(buffer: bytes) -> tuple[list[bytes], bytes]:
    """The complete documents at the start of `buffer`, and what is left over."""
    documents: list[bytes] = []
    while True:
        end = buffer.find(END_OF_DOCUMENT)
        if end < 0:
            return documents, buffer
        end += len(END_OF_DOCUMENT)
        documents.append(buffer[:end].strip())
        buffer = buffer[end:]
