"""What OCI-P tests share: the R25 schema every request document must pass, a
tap that collects documents, and a loopback peer server on a free port.

The schema is BroadSoft's, so it is never committed: ONENET_OCIP_XSD names it,
or the first test that needs it fetches it once (tools/fetch_ocip_xsd.py, with
pip, into the user's cache directory). Where it cannot be had (no network) the
validating tests skip, except in CI, where a missing schema fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

XSD_VARIABLE = "ONENET_OCIP_XSD"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
USER, PASSWORD = "admin@sandbox", "Pa55-word!never-shown"


@cache
def _load(path: str) -> Any:
    from lxml import etree

    return etree.XMLSchema(etree.parse(path))


def cache_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "onenet-apply" / "ocip-xsd"


@cache
def _fetched() -> str | None:
    """The schema fetched into the cache (once per run), or None when pip cannot."""
    from tools.fetch_ocip_xsd import fetch

    try:
        return str(fetch(cache_dir()))
    except (OSError, subprocess.CalledProcessError, SystemExit, StopIteration):
        return None


def schema_path() -> str:
    named = os.environ.get(XSD_VARIABLE, "")
    return named if named else (_fetched() or "")


def missing_schema() -> str | None:
    """Why the R25 schema cannot be had (a failure in CI), or None when it can."""
    path = schema_path()
    if path and os.path.isfile(path):
        return None
    named = os.environ.get(XSD_VARIABLE)
    why = (
        f"the OCI-P R25 schema is not at ${XSD_VARIABLE} ({named})"
        if named
        else f"the OCI-P R25 schema could not be fetched into {cache_dir()} (offline?)"
    ) + "; tools/fetch_ocip_xsd.py fetches it"
    if os.environ.get("CI"):
        pytest.fail(why)
    return why


def schema() -> Any:
    """The R25 schema, or a skip (a failure in CI) saying how to get it."""
    why = missing_schema()
    if why is not None:
        pytest.skip(why)
    return _load(schema_path())


def rewrite(document: bytes) -> bytes:
    """The document as libxml2 can check it: xsi:type resolves only with a prefixed
    root and no `xmlns=""` on the children."""
    from lxml import etree

    root = etree.fromstring(document)
    new = etree.Element("{C}BroadsoftDocument", root.attrib, nsmap={"c": "C", "xsi": XSI})
    for child in root:
        new.append(child)
    return bytes(etree.tostring(new)).replace(b' xmlns=""', b"")


def schema_errors(document: bytes) -> list[str]:
    from lxml import etree

    checker = schema()
    if checker.validate(etree.fromstring(rewrite(document))):
        return []
    return [f"line {e.line}: {e.message}" for e in checker.error_log]


def command_types(document: bytes) -> list[str]:
    from lxml import etree

    root = etree.fromstring(document)
    return [c.get(f"{{{XSI}}}type", "").rpartition(":")[2] for c in root.iter("command")]


@dataclass
class DocumentTap:
    """Collects every document it is given (a channel's or a peer's `taps`)."""

    documents: list[bytes] = field(default_factory=list, repr=False)  # may hold a password

    def __call__(self, document: bytes) -> None:
        self.documents.append(document)

    def types(self) -> list[str]:
        return [name for document in self.documents for name in command_types(document)]

    def invalid(self) -> list[str]:
        """Each document the schema rejects: its command types and the errors (never
        the document, which may carry a password)."""
        return [
            f"document {n} ({', '.join(command_types(d))}): {'; '.join(errors)}"
            for n, d in enumerate(self.documents, 1)
            if (errors := schema_errors(d))
        ]


@pytest.fixture
def xsd_checked() -> Iterator[DocumentTap]:
    """A tap whose documents must all pass the R25 schema when the test ends; the
    test skips without the schema (fails in CI)."""
    schema()
    tap = DocumentTap()
    yield tap
    _check(tap)


@pytest.fixture
def sent_documents() -> Iterator[DocumentTap]:
    """A tap for tests of something else: its documents are checked against the
    schema when it can be had (always in CI), and the test runs either way."""
    tap = DocumentTap()
    yield tap
    if missing_schema() is None:
        _check(tap)


def _check(tap: DocumentTap) -> None:
    problems = tap.invalid()
    if problems:
        pytest.fail("documents the R25 schema rejects:\n" + "\n".join(problems))


@contextmanager
def running_server(peer: Any, tls: Any = None, limits: Any = None) -> Iterator[Any]:
    """`peer` served on 127.0.0.1, a free port, in a thread, until the block ends."""
    from onenet_apply.backends.ocip.peer.server import PeerServer

    server = PeerServer(("127.0.0.1", 0), peer, tls, limits)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, made with the
    openssl command (the test skips without it; fails in CI)."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI"):
            pytest.fail("the openssl command is not installed")
        pytest.skip("the openssl command is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=onenet test"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
