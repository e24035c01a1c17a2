"""YAML scalars as site values: which type a plain scalar resolves to, its
conversion, text in Unicode NFC form, and YAML 1.1 numbers that read as something
other than they look (`010` is 8, `0x10` is 16, `1:30` is 90, `1_000` is 1000)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG + t for t in ("str", "int", "float", "bool", "null"))
TIMESTAMP, MAP, SEQ = TAG + "timestamp", TAG + "map", TAG + "seq"
_CONSTRUCTOR = SafeConstructor()
CONVERT = {
    INT: _CONSTRUCTOR.construct_yaml_int,
    FLOAT: _CONSTRUCTOR.construct_yaml_float,
    BOOL: _CONSTRUCTOR.construct_yaml_bool,
}
RESOLVER = yaml.resolver.Resolver()

# A plain scalar that starts with a letter resolves to something other than text
# only when it is one of YAML 1.1's boolean or null words: a name such as `Frank`
# or a key such as `number` is text without running the resolver's expressions.
WORDS_NOT_TEXT = frozenset(
    spelling
    for word in ("yes", "no", "true", "false", "on", "off", "null")
    for spelling in (word, word.capitalize(), word.upper())
)
# the first letters that start such a word (only where the resolver's types for that
# letter are booleans and null alone, as in YAML 1.1; any other resolver: none)
WORD_FIRST = frozenset(
    first
    for first, resolvers in RESOLVER.yaml_implicit_resolvers.items()
    if first and first.isalpha() and {tag for tag, _ in resolvers} <= {BOOL, NULL}
)


def text(value: str) -> str:
    return value if value.isascii() else unicodedata.normalize("NFC", value)


PLAIN_NUMBER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")


def yaml11_number(value: str, result: Any) -> str | None:
    """Why a YAML 1.1 number is not what it looks like, or None for a plain one.

    A reader expects `010` to be ten and `1:30` to be a time; YAML 1.1 reads them
    as 8 and 90, silently. Site files hold such values only in plain decimal."""
    if type(result) is bool or PLAIN_NUMBER.fullmatch(value):
        return None
    digits = value.lstrip("+-")
    if ":" in digits:
        kind = "a sexagesimal (base 60) number"
    elif digits[:2] in ("0x", "0X"):
        kind = "a hexadecimal number"
    elif digits[:2] in ("0b", "0B"):
        kind = "a binary number"
    elif "_" in digits:
        kind = "a number with digit separators"
    elif digits[:1] == "0" and digits[1:2].isdigit():
        kind = "an octal number"
    else:
        return None  # .inf, .nan and the like: the schema's range checks speak for them
    return (
        f"`{value}` is read by YAML 1.1 as {kind}, {result}: write {result} for that "
        f'number, or "{value}" in quotes for text'
    )
