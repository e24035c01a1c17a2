"""What phonenumbers says of a whole block of numbers, decided once per block.

A site's numbers share a country code, a length and most of their digits, yet
`phonenumbers.is_valid_number` matches each one against a dozen regular
expressions (about 20 µs a number). Its answer for a block, the numbers of one
length that differ only in their last digits, is often the same for every number
of the block: the patterns read those digits as "any digit". This module finds
that out exactly, by running phonenumbers' own type decision on the block's
prefix followed by wildcards (`X`) against two rewritten copies of the patterns:

- in the *under* copy a wildcard matches only where the pattern accepts every
  digit (`\\d`, `[0-9]`), so a match there means every number of the block matches;
- in the *over* copy a wildcard matches wherever the pattern accepts any digit,
  so no match there means no number of the block matches.

When both copies give the same type, every number of the block has that type:
the decision is a list of such matches taken in order. Otherwise the block is
undecided and each of its numbers is asked about as before. A differential test
(tests/test_phone.py) holds this to phonenumbers' answer number by number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberType
from phonenumbers import phonenumberutil as _util

WILDCARD = "X"
SUFFIXES = (4, 2)  # the block sizes tried: 10,000 numbers, then 100
_DIGITS = frozenset("0123456789")
_PLAIN = frozenset("0123456789()?:|,{}")  # copied as they are (digits outside classes aside)
_DESCS = (
    "general_desc",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_type_helper = getattr(_util, "_number_type_helper", None)  # phonenumbers' own decision


def block_type(country_code: int, national: str) -> int | None:
    """The PhoneNumberType of every number of the block `national` is in, or None
    when the numbers of its block may differ (then ask phonenumbers about it)."""
    for size in SUFFIXES:
        if len(national) > size:
            kind = _block(country_code, national[:-size], len(national))
            if kind is not None:
                return kind
    return None


@cache
def _block(country_code: int, prefix: str, length: int) -> int | None:
    symbolic = prefix + WILDCARD * (length - len(prefix))
    region = _region(country_code, symbolic)
    if region is None:
        return None
    copies = _copies(region)
    if copies is None or _type_helper is None:
        return None
    under, over = (_type_helper(symbolic, copy) for copy in copies)
    return under if under == over else None


def _region(country_code: int, symbolic: str) -> str | None:
    """phonenumbers' region of every number of the block (`region_code_for_number`),
    or None when it may differ or is no single geographic region."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions or "001" in regions:
        return None
    if len(regions) == 1:
        return regions[0]
    for region in regions:  # the first region that takes the number, as phonenumbers does
        metadata = PhoneMetadata.metadata_for_region(region)
        copies = _copies(region)
        if metadata is None or copies is None or _type_helper is None:
            return None
        if metadata.leading_digits is not None:
            under, over = (_rewrite(metadata.leading_digits, exact) for exact in (True, False))
            if under is None or over is None:
                return None
            if _util.re_compile(under).match(symbolic):
                return region
            if _util.re_compile(over).match(symbolic):
                return None
        else:
            if _type_helper(symbolic, copies[0]) != PhoneNumberType.UNKNOWN:
                return region
            if _type_helper(symbolic, copies[1]) != PhoneNumberType.UNKNOWN:
                return None
    return None


@dataclass(frozen=True, slots=True)
class _Desc:
    """A number type's pattern and lengths, as phonenumbers' metadata states them."""

    national_number_pattern: str | None
    possible_length: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Copy:
    """A region's metadata with rewritten patterns: what the type decision reads."""

    descs: dict[str, _Desc | None]
    same_mobile_and_fixed_line_pattern: bool

    def __getattr__(self, name: str) -> Any:
        try:
            return self.descs[name]
        except KeyError:
            raise AttributeError(name) from None


@cache
def _copies(region: str) -> tuple[_Copy, _Copy] | None:
    """The region's under and over copies, or None if a pattern is beyond the rewrite."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    copies = []
    for exact in (True, False):
        descs: dict[str, _Desc | None] = {}
        for name in _DESCS:
            desc = getattr(metadata, name)
            if desc is None:
                descs[name] = None
                continue
            pattern = desc.national_number_pattern
            rewritten = _rewrite(pattern, exact) if pattern else pattern
            if pattern and rewritten is None:
                return None
            descs[name] = _Desc(rewritten, tuple(desc.possible_length))
        copies.append(_Copy(descs, bool(metadata.same_mobile_and_fixed_line_pattern)))
    return copies[0], copies[1]


def _rewrite(pattern: str, exact: bool) -> str | None:
    """`pattern` with the wildcard accepted where every digit is (`exact`, the under
    copy) or where any digit is (the over copy); None for syntax it does not know."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if pattern[i : i + 2] != "\\d":
                return None
            out.append(f"[0-9{WILDCARD}]")
            i += 2
        elif char == "[":
            end = pattern.find("]", i)
            digits = _class_digits(pattern[i + 1 : end]) if end > 0 else None
            if digits is None:
                return None
            body = pattern[i + 1 : end]
            out.append(f"[{body}{WILDCARD}]" if digits == _DIGITS or not exact else f"[{body}]")
            i = end + 1
        elif char == "{":
            end = pattern.find("}", i)
            if end < 0:
                return None
            out.append(pattern[i : end + 1])
            i = end + 1
        elif char in _DIGITS:
            out.append(char if exact else f"[{char}{WILDCARD}]")
            i += 1
        elif char in _PLAIN:
            out.append(char)
            i += 1
        else:
            return None
    return "".join(out)


def _class_digits(body: str) -> frozenset[str] | None:
    """The digits a character class `[body]` accepts, or None for syntax it does not know."""
    digits: set[str] = set()
    i = 0
    while i < len(body):
        if body[i : i + 2] == "\\d":
            digits |= _DIGITS
            i += 2
        elif i + 2 < len(body) and body[i + 1] == "-":
            low, high = body[i], body[i + 2]
            if low not in _DIGITS or high not in _DIGITS:
                return None
            digits |= {chr(c) for c in range(ord(low), ord(high) + 1)}
            i += 3
        elif body[i] in _DIGITS:
            digits.add(body[i])
            i += 1
        else:
            return None
    return frozenset(digits) if digits else None
