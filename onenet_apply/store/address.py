"""Where the state store is: a libpq URL from `--state` or `$ONENET_STATE`.

Everything libpq understands works (the URL's host, port, database, user and
parameters, and the PG* environment variables and ~/.pgpass for the rest), except
one thing: a password written into `--state`, which would sit in the shell's
history and in every process listing. The password comes from PGPASSWORD,
~/.pgpass, a PGSERVICEFILE, or a URL in ONENET_STATE (the environment), and the
address is only ever shown without it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from onenet_apply.store.errors import StoreError

ENV_VAR = "ONENET_STATE"
SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class StateAddress:
    url: str = ""  # the libpq URL, password included if the environment gave one
    origin: str = ""  # "--state" or "$ONENET_STATE", for messages

    def redacted(self) -> str:
        """The URL as it may be shown: no password, wherever it was written."""
        return redact(self.url)


def state_address(option: str | None) -> StateAddress | None:
    """The store `--state` names, else `$ONENET_STATE`, else None (no shared store:
    each backend keeps its own lock and journal)."""
    if option:
        address = StateAddress(option, "--state")
        if _has_password(option):
            raise StoreError(
                "the --state URL holds a password, which would be seen in the shell's "
                "history and the process list: give it in PGPASSWORD or ~/.pgpass, or "
                f"put the whole URL in ${ENV_VAR}"
            )
    else:
        from_env = os.environ.get(ENV_VAR, "").strip()
        if not from_env:
            return None
        address = StateAddress(from_env, f"${ENV_VAR}")
    scheme = urlsplit(address.url).scheme.lower()
    if scheme not in SCHEMES:
        raise StoreError(
            f"{address.origin} {address.redacted()!r} is not a PostgreSQL URL: "
            "give postgresql://[USER@]HOST[:PORT]/DATABASE"
        )
    return address


def _has_password(url: str) -> bool:
    parts = urlsplit(url)
    in_query = any(k.lower() == "password" for k, _ in parse_qsl(parts.query))
    return parts.password is not None or in_query


def redact(url: str) -> str:
    """`url` with any password (in the user part or the query) replaced by ***."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user_part, _, host_part = netloc.rpartition("@")
            netloc = f"{user_part.split(':', 1)[0]}:***@{host_part}"
        query = "&".join(
            f"{k}=***" if k.lower() == "password" else f"{k}={v}"
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # not even a URL: show nothing of it
        return "(an unreadable URL)"
