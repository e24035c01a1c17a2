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


def json_value(text: Any, column: str) -> Any:
    """The JSON value stored in `column` as `text`, or None when it is empty."""
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError) as e:
        raise RecordError(f"column {column} holds bad JSON ({e})") from None


def json_mapping(row: sqlite3.Row, column: str, *keys: str) -> dict[str, Any] | None:
    """A JSON object column that must hold `keys`, or None when it is empty."""
    return json_mapping_value(row[column], column, *keys)


def json_mapping_value(text: Any, column: str, *keys: str) -> dict[str, Any] | None:
    """The JSON object stored in `column` as `text`, which must hold `keys`; None when
    it is empty."""
    value = json_value(text, column)
    if value is None:
        return None
    if not isinstance(value, dict) or any(k not in value for k in keys):
        wanted = f"an object with {', '.join(keys)}" if keys else "an object"
        raise RecordError(f"column {column} holds {value!r}, not {wanted}")
    return value


_LIFECYCLES = {state.value: state for state in Lifecycle}


def lifecycle(row: sqlite3.Row) -> Lifecycle:
    return lifecycle_value(row["lifecycle"])


def lifecycle_value(stored: Any) -> Lifecycle:
    """The lifecycle state stored as `stored` (a dictionary lookup: read for every
    record of every plan)."""
    state = _LIFECYCLES.get(stored) if isinstance(stored, str) else None
    if state is None:
        known = ", ".join(_LIFECYCLES)
        raise RecordError(f"column lifecycle holds {stored!r}, not one of {known}")
    return state


def describe_error(e: Exception) -> str:
    if isinstance(e, RecordError):
        return str(e)
    if isinstance(e, KeyError):
        return f"a stored value lacks {e.args[0]!r}"
    return f"a stored value cannot be read ({e})"
