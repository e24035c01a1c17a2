"""The platform's rules on single values, shared by validation and the sandbox.

The JSON Schema states most of them (lengths, patterns, ranges); this module adds
what a schema cannot say about text that a person reads: names and usernames hold
no invisible or control characters and no white space at either end, and lengths
count characters in Unicode NFC (a decomposed `é` is one character).

The sandbox checks every value an action carries with the same schema fragments
and text rules, so nothing that reaches it by any path stores what the portal
would refuse.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from typing import Any

from onenet_apply.sitefile.schema import Check, describe, site_schema, sub_checker

# Unicode categories a name never holds: controls, format characters (zero-width
# and bidi controls among them), lone surrogates, line and paragraph separators
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# characters of other categories that render as nothing: Unicode's
# Default_Ignorable_Code_Point outside Cf (the combining grapheme joiner, Hangul
# fillers, Khmer inherent vowels, Mongolian and other variation selectors), and
# the blank braille pattern
_BLANK = frozenset(
    [
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0),
        *range(0x180B, 0x1810),
        *range(0xFE00, 0xFE10),
        *range(0xFFF0, 0xFFF9),
        *range(0xE0100, 0xE01F0),
    ]
)
# fields read by people: the text rules apply to them
TEXT_FIELDS = frozenset({"first_name", "last_name", "name", "username"})
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
NUMBER_FIELDS = frozenset({"number", "transfer_to", "forward_to"})
# values the backend's catalogue decides, not the form rules here
CATALOGUE_FIELDS = frozenset({"package", "options", "services", "desk_phone", "edition"})


def nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def char_name(char: str) -> str:
    """`U+200B ZERO WIDTH SPACE`, or the category for characters without a name."""
    name = unicodedata.name(char, "")
    if not name:
        kind = "a control character" if unicodedata.category(char) == "Cc" else "no name"
        name = f"({kind})"
    return f"U+{ord(char):04X} {name}"


def text_problem(text: str) -> str | None:
    """What makes `text` unfit as a name or username, or None."""
    if text.isascii() and text.isprintable() and text[:1] != " " and text[-1:] != " ":
        return None  # printable ASCII holds no control or blank character, no other space
    text = nfc(text)
    for i, char in enumerate(text, 1):
        if unicodedata.category(char) in _INVISIBLE or ord(char) in _BLANK:
            return f"holds {char_name(char)} at character {i}; names hold visible characters only"
    if text[:1].isspace():
        return f"starts with white space ({char_name(text[0])})"
    if text[-1:].isspace():
        return f"ends with white space ({char_name(text[-1])})"
    return None


@cache
def _field_checks(owner: str) -> Mapping[str, Check]:
    """Compiled schema checks of each field of a `$defs` entry (user, hunt_group, ...)."""
    properties = site_schema()["$defs"][owner]["properties"]
    return {name: sub_checker(schema) for name, schema in properties.items()}


@cache
def _id_check() -> Check:
    return sub_checker({"$ref": "#/$defs/object_id"})


def id_problem(object_id: Any) -> str | None:
    found = _id_check()(object_id)
    return found[0].message if found else None


def value_problems(owner: str, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, problem) for every rule on values that `values` break.

    `values` are fields of a `$defs` entry of the schema (user, hunt_group, ...) as
    a backend stores them: numbers in E.164; None means unset."""
    checks = _field_checks(owner)
    out: list[tuple[str, str]] = []
    for field, value in values.items():
        check = checks.get(field)
        if check is None or value is None or field in CATALOGUE_FIELDS:
            continue
        is_text = isinstance(value, str)
        value = nfc(value) if is_text else _without_nulls(value)
        found = check(value)
        if found:
            where = ".".join(str(p) for p in (field, *found[0].path))
            out.append((field, f"{where}: {found[0].message}"))
            continue
        if is_text and field in TEXT_FIELDS:
            problem = text_problem(value)
            if problem:
                out.append((field, f"{field}: {problem}"))
        if field in NUMBER_FIELDS or isinstance(value, dict):  # the only ones holding one
            out.extend((field, problem) for problem in _number_problems(field, value))
    return out


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: nfc(v) if isinstance(v, str) else v for k, v in value.items() if v is not None}
    return nfc(value) if isinstance(value, str) else value


def _number_problems(field: str, value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{field}.{p}" for key, sub in value.items() for p in _number_problems(key, sub)]
    if field in NUMBER_FIELDS and isinstance(value, str) and not _E164.fullmatch(value):
        return [f"{field}: {describe(value)} is not a number in E.164 form (+4930...)"]
    return []
