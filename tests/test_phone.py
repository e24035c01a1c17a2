"""Phone numbers: national and E.164 input, E.164 output, and the fast path."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onenet_apply.model.numbering import NumberPool, default_extension, parse_pool_entry
from onenet_apply.model.phone import InvalidNumber, parse_number


@pytest.mark.parametrize(
    "text,region,e164",
    [
        ("030 12345601", "DE", "+493012345601"),
        ("+49 30 12345601", "DE", "+493012345601"),
        ("030/12345601", "DE", "+493012345601"),
        ("0221 1234567", "DE", "+492211234567"),
        ("020 7946 0101", "GB", "+442079460101"),
        ("(020) 7946-0101", "GB", "+442079460101"),
        ("+442079460101", "DE", "+442079460101"),  # E.164 ignores the site's region
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("02 1234 5678", "IT", "+390212345678"),  # Italian numbers keep their leading 0
    ],
)
def test_numbers_are_stored_as_e164(text: str, region: str, e164: str) -> None:
    assert parse_number(text, region).e164 == e164


@pytest.mark.parametrize("text", ["030 12", "12", "+49", "call me", "+999 1234567"])
def test_invalid_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidNumber):
        parse_number(text, "DE")


def test_mobile_numbers_are_recognised() -> None:
    assert parse_number("0172 1234567", "DE").is_mobile
    assert not parse_number("030 12345601", "DE").is_mobile


REGIONS = ["DE", "GB", "FR", "IT", "US", "AT", "CH", "NL", "ES", "BR", "AR", "JP", "RU", "AU"]


@settings(max_examples=3000, deadline=None)
@given(
    region=st.sampled_from(REGIONS),
    international=st.booleans(),
    digits=st.text("0123456789", min_size=3, max_size=14),
)
def test_fast_path_agrees_with_phonenumbers_parse(
    region: str, international: bool, digits: str
) -> None:
    text = ("+" if international else "") + digits
    try:
        reference = phonenumbers.parse(text, region)
        valid = phonenumbers.is_valid_number(reference)
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        with pytest.raises(InvalidNumber):
            parse_number(text, region)
    else:
        expected = phonenumbers.format_number(reference, phonenumbers.PhoneNumberFormat.E164)
        assert parse_number(text, region).e164 == expected


def test_default_extension_is_the_last_digits() -> None:
    national = parse_number("030 12345601", "DE").national
    assert default_extension(national, 4) == "5601"
    assert default_extension(national, 6) == "345601"


def test_number_pool_ranges_and_single_numbers() -> None:
    pool = NumberPool(
        [
            parse_pool_entry("+493012345600-+493012345699", "DE"),
            parse_pool_entry("030 99999999", "DE"),
        ]
    )
    assert "+493012345600" in pool and "+493012345699" in pool
    assert "+493012345700" not in pool
    assert "+493099999999" in pool
    assert "+4930123456000" not in pool  # another length is another number
    assert len(list(pool)) == 101


def test_pool_ranges_accept_national_form() -> None:
    assert len(parse_pool_entry("030 12345600-030 12345609", "DE")) == 10


@pytest.mark.parametrize(
    "entry,message",
    [
        ("+493012345699-+493012345600", "runs backwards"),
        ("+49301234560-+493012345699", "same number of digits"),
        ("hello", "neither a valid number nor a range"),
        ("+49301000000-+49309999999", "more than 1,000,000 numbers"),
    ],
)
def test_bad_pool_entries(entry: str, message: str) -> None:
    with pytest.raises(InvalidNumber, match=message):
        parse_pool_entry(entry, "DE")
