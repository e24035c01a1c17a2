"""BroadWorks OCI-P: the backend for a real One Net Business platform, and the
loopback peer that serves the sandbox over the same protocol (docs/ocip.md).

`codec` reads and writes documents through broadworks-ocip's classes;
`channel` and `transport` carry them; `link` turns answers into the backend's
errors; `backend` is the Backend, with `users`, `groups` and the readers doing
the mapping; `services` maps the catalogue's words to BroadWorks names; `peer`
is the server side. Importing this package imports none of them: broadworks-ocip
takes half a second to load, and only OCI-P commands pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from onenet_apply.backends.ocip.backend import OcipBackend


def open_ocips(location: str, *, create: bool) -> OcipBackend:
    """`ocips://HOST[:PORT]/ENTERPRISE`: the registry's factory (TLS)."""
    return _open("ocips", location)


def open_ocip(location: str, *, create: bool) -> OcipBackend:
    """`ocip://HOST[:PORT]/ENTERPRISE`: the registry's factory (plain TCP)."""
    return _open("ocip", location)


def _open(scheme: str, location: str) -> OcipBackend:
    """The URL is checked, then the login read, before anything connects (on first use).
    A server's group need not exist yet: `create` means nothing here."""
    from onenet_apply.backends.ocip import url

    address = url.parse(scheme, location)
    login = url.login_from_environment()
    mapping = None
    if address.mapping:
        from onenet_apply.backends.ocip import mapping_file

        mapping = mapping_file.load(address.mapping)

    from onenet_apply.backends.ocip.backend import OcipBackend
    from onenet_apply.backends.ocip.transport import SocketChannel

    return OcipBackend(
        SocketChannel(address, login), address.enterprise, mapping, scope=address.describe()
    )


open_ocips.usage = "ocips://HOST[:PORT]/ENTERPRISE"  # type: ignore[attr-defined]
open_ocip.usage = "ocip://127.0.0.1[:PORT]/ENTERPRISE"  # type: ignore[attr-defined]
