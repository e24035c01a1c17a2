"""Phone numbers: read in the site's national form or E.164, stored as E.164.

Validity is always decided by `phonenumbers`. Its `parse` is general (extensions,
letters, carrier codes) and costs ~30 µs a number, a third of a second on a large
site; the two plain shapes that site files use (`+4930...` and `030 ...` in a
region with a simple trunk prefix) are read here directly into a `PhoneNumber`
and only accepted when `phonenumbers` finds the result valid, which it decides
once for a whole block of numbers where it can (`phone_blocks`). Anything else,
and every number the fast path does not accept, goes through `parse`, so an
invalid number is refused with the same message either way. A differential test
keeps both paths in agreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType

from onenet_apply.model.phone_blocks import block_type

_SEPARATORS = re.compile(r"[ ()/.\-]")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


@dataclass(frozen=True, slots=True)
class ParsedNumber:
    """A valid phone number: E.164, its national significant digits, and its type when
    already known."""

    e164: str
    national: str  # national significant number: the digits extensions default from
    kind: int | None  # its PhoneNumberType, when its block already told
    number: PhoneNumber | None = None  # phonenumbers' own form, built only when needed

    @property
    def is_mobile(self) -> bool:
        kind = self.kind
        if kind is None:
            assert self.number is not None  # built whenever the block left the kind open
            kind = phonenumbers.number_type(self.number)
        return kind in _MOBILE_TYPES


class InvalidNumber(ValueError):
    """The text is not a valid phone number; the message says why."""


def known_region(region: str) -> bool:
    return region in phonenumbers.SUPPORTED_REGIONS


def parse_number(text: str, region: str) -> ParsedNumber:
    """Read `text` as a number of `region` (or E.164); raise InvalidNumber if not valid."""
    fast = _fast_parse(text, region)
    if fast is not None:
        return fast
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as e:
        raise InvalidNumber(f"{text!r} is not a phone number ({_reason(e)})") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber(_invalid_message(text, region, number))
    national = phonenumbers.national_significant_number(number)
    return ParsedNumber(f"+{number.country_code}{national}", national, None, number)


def _fast_parse(text: str, region: str) -> ParsedNumber | None:
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.isdigit() or digits[0] == "0":  # country codes never start with 0
            return None
        for size in (1, 2, 3):
            cc = int(digits[:size])
            if cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return _valid_or_none(cc, digits[size:], _trunk_prefix_of_code(cc))
        return None
    if not digits.isdigit():
        return None
    prefix = _simple_trunk_prefix(region)
    if not prefix or not digits.startswith(prefix) or digits.startswith("00"):
        return None
    dialling_out = _international_prefix(region)
    if dialling_out is not None and dialling_out.match(digits):
        return None  # parse reads it as a call abroad (`015...` in IL)
    return _valid_or_none(_country_code(region), digits[len(prefix) :], prefix)


def _valid_or_none(cc: int, national: str, trunk_prefix: str | None) -> ParsedNumber | None:
    # Leading zeros (Italy) and a leftover trunk prefix need parse's full rules.
    if not national or national[0] == "0" or (trunk_prefix and national.startswith(trunk_prefix)):
        return None
    kind = block_type(cc, national)
    number = None
    if kind is None:  # its block is undecided: ask about this number
        number = PhoneNumber(country_code=cc, national_number=int(national))
        if not phonenumbers.is_valid_number(number):
            return None
    elif kind == PhoneNumberType.UNKNOWN:
        return None
    return ParsedNumber(f"+{cc}{national}", national, kind, number)


@cache
def _international_prefix(region: str) -> re.Pattern[str] | None:
    """The digits that start a call abroad from `region`, as parse recognises them."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    pattern = metadata.international_prefix if metadata is not None else None
    return re.compile(pattern) if pattern else None


@cache
def _country_code(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


@cache
def _simple_trunk_prefix(region: str) -> str | None:
    """The region's trunk prefix ('0' in DE), if parsing strips exactly that."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.national_prefix_transform_rule:
        return None
    prefix = metadata.national_prefix
    if prefix and metadata.national_prefix_for_parsing == prefix and prefix.isdigit():
        return prefix
    return None


@cache
def _trunk_prefix_of_code(cc: int) -> str | None:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(cc, ())
    prefixes = set()
    for region in regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            continue
        if metadata.national_prefix_for_parsing and not _simple_trunk_prefix(region):
            return "X"  # complex rules somewhere in this code: always take the slow path
        if metadata.national_prefix:
            prefixes.add(metadata.national_prefix)
    if len(prefixes) > 1:
        return "X"
    return prefixes.pop() if prefixes else None


def _reason(e: NumberParseException) -> str:
    reasons = {
        NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        NumberParseException.NOT_A_NUMBER: "not a number",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(e.error_type, "unreadable")


def _invalid_message(text: str, region: str, number: PhoneNumber) -> str:
    possible = phonenumbers.is_possible_number_with_reason(number)
    why = {
        phonenumbers.ValidationResult.TOO_SHORT: "too short",
        phonenumbers.ValidationResult.TOO_LONG: "too long",
        phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.ValidationResult.INVALID_LENGTH: "wrong length",
    }.get(possible, "no such number range")
    where = phonenumbers.region_code_for_country_code(number.country_code)
    return f"{text!r} is not a valid phone number in {where or region} ({why})"
