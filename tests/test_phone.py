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


# -- validity decided per block of numbers (model/phone_blocks.py) ------------------------

ALL_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.UAN,
]


def _slow(text: str, region: str, monkeypatch: pytest.MonkeyPatch) -> object:
    """parse_number's answer with every block undecided: phonenumbers per number."""
    from onenet_apply.model import phone

    with monkeypatch.context() as m:
        m.setattr(phone, "block_type", lambda cc, national: None)
        try:
            parsed = parse_number(text, region)
        except InvalidNumber as e:
            return str(e)
        return parsed.e164, parsed.is_mobile


@settings(max_examples=2000, deadline=None)
@given(
    region=st.sampled_from(ALL_REGIONS),
    kind=st.sampled_from(TYPES),
    tail=st.text("0123456789", min_size=0, max_size=6),
    international=st.booleans(),
    data=st.data(),
)
def test_numbers_near_real_ones_agree_with_phonenumbers_and_keep_their_messages(
    region: str, kind: int, tail: str, international: bool, data: st.DataObject
) -> None:
    """Real numbers of every region and type with their last digits changed, so that
    many share a block with one decided before: the fast path gives phonenumbers'
    answer (E.164, mobile or not), and an invalid number the same message as
    phonenumbers' own path."""
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return
    national = phonenumbers.national_significant_number(example)
    national = national[: max(1, len(national) - len(tail))] + tail
    national += data.draw(st.sampled_from(["", "", "0", "12"]))  # other lengths too
    cc = example.country_code
    text = f"+{cc} {national}" if international else f"0{national}"
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected = _slow(text, region, monkeypatch)
    try:
        parsed = parse_number(text, region)
    except InvalidNumber as e:
        assert str(e) == expected
        return
    assert (parsed.e164, parsed.is_mobile) == expected
    reference = phonenumbers.parse(text, region)
    assert phonenumbers.is_valid_number(reference)
    assert parsed.e164 == phonenumbers.format_number(reference, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=1000, deadline=None)
@given(
    region=st.sampled_from(ALL_REGIONS),
    kind=st.sampled_from(TYPES),
    suffixes=st.lists(st.text("0123456789", min_size=4, max_size=4), min_size=1, max_size=5),
)
def test_a_decided_block_has_phonenumbers_type_for_each_of_its_numbers(
    region: str, kind: int, suffixes: list[str]
) -> None:
    from onenet_apply.model.phone_blocks import block_type

    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return
    national = phonenumbers.national_significant_number(example)
    for suffix in suffixes:
        member = national[:-4] + suffix
        decided = block_type(example.country_code, member)
        if decided is not None and member[0] != "0":
            number = phonenumbers.PhoneNumber(
                country_code=example.country_code, national_number=int(member)
            )
            assert decided == phonenumbers.number_type(number), member
            assert (decided != phonenumbers.PhoneNumberType.UNKNOWN) == (
                phonenumbers.is_valid_number(number)
            )


def test_the_numbers_of_a_block_are_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A site's numbers share prefixes and lengths: 1,000 numbers of one block cost
    phonenumbers' full check a few times, not 1,000 times."""
    checks: list[object] = []
    real = phonenumbers.is_valid_number
    monkeypatch.setattr(phonenumbers, "is_valid_number", lambda n: checks.append(n) or real(n))
    parsed = [parse_number(f"030 1{i:06d}", "DE") for i in range(1000)]
    assert {p.e164 for p in parsed} == {f"+49301{i:06d}" for i in range(1000)}
    mobiles = [parse_number(f"+49 172 {i:07d}", "DE") for i in range(1000)]
    assert all(m.is_mobile for m in mobiles) and not any(p.is_mobile for p in parsed)
    assert len(checks) <= 4
    with pytest.raises(InvalidNumber, match=r"'030 12' is not a valid phone number in DE"):
        parse_number("030 12", "DE")


@pytest.mark.parametrize(
    "text,region", [("01599 123456", "IL"), ("01919 123456", "IL"), ("03 1234 5678", "JP")]
)
def test_national_digits_that_dial_abroad_are_read_as_phonenumbers_reads_them(
    text: str, region: str
) -> None:
    """Where a call abroad starts with the trunk prefix (Israel's 015 and 019),
    phonenumbers reads such digits as an international number: so does onenet."""
    try:
        reference = phonenumbers.parse(text, region)
        valid = phonenumbers.is_valid_number(reference)
    except phonenumbers.NumberParseException:
        valid = False
    if valid:
        assert parse_number(text, region).e164 == phonenumbers.format_number(
            reference, phonenumbers.PhoneNumberFormat.E164
        )
    else:
        with pytest.raises(InvalidNumber):
            parse_number(text, region)
