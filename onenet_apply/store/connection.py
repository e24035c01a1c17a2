"""Connections to the store: autocommit, named, and failing with one clear line.

psycopg's messages name the host and the reason (refused, no such database, a
wrong password) and never the password itself; the address is shown redacted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from onenet_apply.store.address import StateAddress
from onenet_apply.store.errors import StoreError

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise


def connect(address: StateAddress, application_name: str) -> psycopg.Connection:
    """A new, dedicated (never pooled) connection in autocommit mode."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = conninfo_to_dict(address.url)
    except psycopg.ProgrammingError as e:
        raise StoreError(f"{address.origin}: not a usable PostgreSQL URL: {e}") from None
    settings: dict[str, object] = {"application_name": application_name}
    if "connect_timeout" not in given:
        settings["connect_timeout"] = CONNECT_TIMEOUT
    try:
        return psycopg.connect(address.url, autocommit=True, **settings)
    except psycopg.Error as e:
        raise StoreError(
            f"cannot reach the state store {address.redacted()}: {first_line(e)}"
        ) from None


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def iso_utc(moment: datetime) -> str:
    """A timestamp from the store as ISO 8601 in UTC, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
