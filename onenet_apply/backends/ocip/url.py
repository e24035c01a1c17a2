"""`ocips://HOST[:PORT]/ENTERPRISE` and `ocip://...`: where a BroadWorks server is,
and the login, which only the environment gives.

TLS (`ocips`, port 2209) verifies the server's certificate, against the system's
authorities or `?ca=FILE`. Plain TCP (`ocip`, port 2208) carries the password in
the clear, so it is refused for any host but this machine's loopback unless
`?insecure=1` says the network is trusted. `?rate=N` caps the requests sent per
second; `?timeout=S` bounds connecting and each wait for a reply.

The password is read from ONENET_OCIP_PASSWORD and kept in a `Login` whose repr
hides it: never from the command line, never printed, never in an exception.
"""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from onenet_apply.backends.base import BackendError
from onenet_apply.backends.registry import shown_url

TLS_PORT = 2209
PLAIN_PORT = 2208
DEFAULT_TIMEOUT = 30.0
USER_VARIABLE = "ONENET_OCIP_USER"
PASSWORD_VARIABLE = "ONENET_OCIP_PASSWORD"
OPTIONS = ("ca", "insecure", "rate", "timeout", "mapping")


class AddressError(BackendError):
    """An OCI-P URL that cannot be used, saying what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Address:
    tls: bool
    host: str
    port: int
    enterprise: str
    ca: str | None = None  # a file of trusted certificates (a private authority)
    insecure: bool = False  # plain TCP allowed beyond loopback
    rate: float | None = None  # requests per second, None for no limit
    timeout: float = DEFAULT_TIMEOUT
    mapping: str | None = None  # a file of the platform's own names (mapping_file.py)

    @property
    def scheme(self) -> str:
        return "ocips" if self.tls else "ocip"

    def describe(self) -> str:
        """The server as messages name it (no query, so nothing private)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}/{self.enterprise}"


@dataclass(frozen=True, slots=True)
class Login:
    user: str
    password: str = field(repr=False)


def parse(scheme: str, location: str) -> Address:
    """The address of `scheme:location` (the registry splits the scheme off)."""
    url = f"{scheme}:{location}"
    tls = scheme == "ocips"
    usage = f"write {scheme}://HOST[:PORT]/ENTERPRISE"
    if "@" in location:  # first, and never shown: a login, whatever its password holds
        raise AddressError(
            f"{scheme}://...: the login never goes in the URL (an @ in it reads as one); "
            f"set {USER_VARIABLE} and {PASSWORD_VARIABLE}"
        )
    shown = shown_url(url)  # messages name the URL without its query
    try:
        parts = urlsplit(url)
    except ValueError as e:  # e.g. an unclosed [ of an IPv6 address
        raise AddressError(f"{shown!r}: not a URL ({e}); {usage}") from None
    if not location.startswith("//") or not parts.hostname:
        raise AddressError(f"{shown!r}: no host; {usage}")
    try:
        port = parts.port if parts.port is not None else (TLS_PORT if tls else PLAIN_PORT)
    except ValueError:
        raise AddressError(f"{shown!r}: the port must be a number from 1 to 65535") from None
    if port == 0:
        raise AddressError(f"{shown!r}: the port must be a number from 1 to 65535")
    enterprise = unquote(parts.path.strip("/"))
    if not enterprise or "/" in enterprise:
        raise AddressError(
            f"{shown!r}: name one enterprise (service provider) as the path; {usage}"
        )
    if parts.fragment:
        raise AddressError(f"{shown!r}: a URL fragment (#...) means nothing here")
    options = _options(shown, parts.query)
    address = Address(
        tls=tls,
        host=parts.hostname,
        port=port,
        enterprise=enterprise,
        ca=options.get("ca") or None,
        insecure=_flag(shown, "insecure", options.get("insecure")),
        rate=_number(shown, "rate", options.get("rate")),
        timeout=_number(shown, "timeout", options.get("timeout")) or DEFAULT_TIMEOUT,
        mapping=options.get("mapping") or None,
    )
    return _checked(shown, address)


def _options(url: str, query: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, text in parse_qsl(query, keep_blank_values=True):
        if name not in OPTIONS:
            raise AddressError(f"{url!r}: unknown option {name!r}; known: {', '.join(OPTIONS)}")
        if name in options:
            raise AddressError(f"{url!r}: option {name!r} given twice")
        options[name] = text
    return options


def _flag(url: str, name: str, text: str | None) -> bool:
    if text in (None, "0", "false", "no"):
        return False
    if text in ("", "1", "true", "yes"):
        return True
    raise AddressError(f"{url!r}: {name}={text!r}: write {name}=1 or leave it out")


def _number(url: str, name: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise AddressError(f"{url!r}: {name}={text!r}: write a number above 0")
    return number


def _checked(url: str, address: Address) -> Address:
    if address.tls and address.insecure:
        raise AddressError(f"{url!r}: insecure is for plain ocip://; ocips:// always verifies")
    if address.ca is not None and not address.tls:
        raise AddressError(f"{url!r}: ca= verifies TLS; use ocips://")
    if address.ca is not None and not os.path.isfile(address.ca):
        raise AddressError(f"{url!r}: ca={address.ca}: no such file")
    if not address.tls and not address.insecure and not is_loopback(address.host):
        raise AddressError(
            f"{url!r}: plain OCI-P sends the password in the clear, so it is only for this "
            f"machine (127.0.0.1, ::1, localhost); use ocips://{address.host}/"
            f"{address.enterprise}, or add ?insecure=1 on a network you trust"
        )
    return address


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def login_from_environment() -> Login:
    """The login name and password, from the environment only."""
    user = os.environ.get(USER_VARIABLE, "")
    password = os.environ.get(PASSWORD_VARIABLE, "")
    missing = [
        name for name, got in ((USER_VARIABLE, user), (PASSWORD_VARIABLE, password)) if not got
    ]
    if missing:
        raise BackendError(
            f"OCI-P needs a login: set {' and '.join(missing)} in the environment "
            "(never on the command line)"
        )
    return Login(user, password)
