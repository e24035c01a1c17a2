"""Reading stored rows back into typed records, with errors that name the column.

A row the sandbox wrote itself always reads back; one edited by hand or damaged
may not. Each decoding step says which column holds what it cannot read, and
`read_state` names the file and the record, so the admin gets one clear line
instead of a traceback.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from onenet_apply.model.state import Lifecycle


class RecordError(ValueError):
    """A stored value that cannot be read back; the message names its column."""


READ_ERRORS = (RecordError, KeyError, TypeError, ValueError, AttributeError)


def json_column(row: sqlite3.Row, column: str) -> Any:
    """The JSON value of `column`, or None when it is empty."""
    text = row[column]
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError) as e:
        raise RecordError(f"column {column} holds bad JSON ({e})") from None


def json_mapping(row: sqlite3.Row, column: str, *keys: str) -> dict[str, Any] | None:
    """A JSON object column that must hold `keys`, or None when it is empty."""
    value = json_column(row, column)
    if value is None:
        return None
    if not isinstance(value, dict) or any(k not in value for k in keys):
        wanted = f"an object with {', '.join(keys)}" if keys else "an object"
        raise RecordError(f"column {column} holds {value!r}, not {wanted}")
    return value


def lifecycle(row: sqlite3.Row) -> Lifecycle:
    try:
        return Lifecycle(row["lifecycle"])
    except ValueError:
        known = ", ".join(state.value for state in Lifecycle)
        raise RecordError(
            f"column lifecycle holds {row['lifecycle']!r}, not one of {known}"
        ) from None


def describe_error(e: Exception) -> str:
    if isinstance(e, RecordError):
        return str(e)
    if isinstance(e, KeyError):
        return f"a stored value lacks {e.args[0]!r}"
    return f"a stored value cannot be read ({e})"
