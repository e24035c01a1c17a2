"""How a site file's user values are spelled in BroadWorks, both ways: the backend
writes them so, its reader and the loopback peer read them back so.

- numbers: E.164 in the site file, `+CC-NSN` in BroadWorks (a DN with its country
  code); read back from either `+CC-NSN` or national digits with a country code;
- the username: an alternate user id `USERNAME@DOMAIN`, none when it is the user's id;
- the desk phone: a group access device named after the user and its type;
- the mobile: `mobilePhoneNumber` for its number, `addressLocation` for its contract;
- desk phone login details: `USERNAME.EXTENSION` and a password, as the portal issues them.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

INTERCEPT = "Intercept User"  # the user service a deactivation assigns
DEVICE_NAME_LENGTH = 40  # AccessDeviceName


def dn(e164: str) -> str:
    """`+493012345601` -> `+49-3012345601`. Country codes are prefix-free, so the
    first known one is it (the number was checked when it was read)."""
    digits = e164[1:]
    if e164[:1] == "+" and digits.isdigit():
        for size in (1, 2, 3):
            if int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
                return f"+{digits[:size]}-{digits[size:]}"
    return e164  # not E.164: the server refuses it in its own words


def e164(number: str | None, country_code: str | None = None) -> str | None:
    """A DN as BroadWorks reports it, in E.164 (`+49-3012345601`, or `3012345601`
    with country code 49)."""
    if not number:
        return None
    digits = number.replace("-", "").replace(" ", "")
    if digits.startswith("+"):
        return digits
    return f"+{country_code}{digits}" if country_code else digits


def device_name(local_id: str, device_type: str) -> str:
    """The access device of a user's desk phone: `anna-Yealink-T54W`, cut to the
    schema's 40 characters with a digest to stay unique."""
    name = f"{local_id}-{device_type}"
    if len(name) <= DEVICE_NAME_LENGTH:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: DEVICE_NAME_LENGTH - 9]}-{digest}"


def endpoint_device(endpoint: Any) -> str | None:
    """The name of the access device of a user's endpoint (None: no desk phone)."""
    if not endpoint:
        return None
    access = endpoint.access_device  # the library decodes it as a dict or an object
    return str(access["device_name"] if isinstance(access, dict) else access.device_name)


def login_username(username: str, extension: str) -> str:
    return f"{username}.{extension}"


def issued_now() -> str:
    """The time login details are issued: UTC to the second, as the sandbox stamps them."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
