"""How a site file's user values are spelled in BroadWorks, both ways: the backend
writes them so, its reader and the loopback peer read them back so.

- numbers: E.164 in the site file, `+CC-NSN` in BroadWorks (dn.py);
- the username: an alternate user id `USERNAME@DOMAIN`, none when it is the user's id;
- the desk phone: a group access device named after the user and its type;
- the mobile: `mobilePhoneNumber` for its number, `addressLocation` for its contract;
- desk phone login details: `USERNAME.EXTENSION` and a password, as the portal issues them.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from onenet_apply.backends.ocip import dn

INTERCEPT = "Intercept User"  # the user service a deactivation assigns
DEVICE_NAME_LENGTH = 40  # AccessDeviceName


def e164(number: str | None, country_code: str | None = None) -> str | None:
    """`dn.e164` of a number that may be missing (None)."""
    return dn.e164(number, country_code) if number else None


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
