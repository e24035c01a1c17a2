"""The site's number pool and extension defaults."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from onenet_apply.model.phone import InvalidNumber, parse_number

MAX_POOL_SIZE = 1_000_000


@dataclass(frozen=True, slots=True)
class NumberRange:
    """An inclusive run of E.164 numbers of one length, as integers."""

    first: int
    last: int
    width: int  # digits after the '+'

    def __contains__(self, e164: str) -> bool:
        digits = e164[1:]
        return len(digits) == self.width and self.first <= int(digits) <= self.last

    def __len__(self) -> int:
        return self.last - self.first + 1

    def numbers(self):
        for n in range(self.first, self.last + 1):
            yield f"+{n:0{self.width}d}"


class NumberPool:
    """The numbers a site owns; membership tests are O(log ranges)."""

    def __init__(self, ranges: list[NumberRange]) -> None:
        self.ranges = sorted(ranges, key=lambda r: (r.width, r.first))
        self._keys = [(r.width, r.first) for r in self.ranges]

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __contains__(self, e164: str) -> bool:
        digits = e164[1:]
        i = bisect_right(self._keys, (len(digits), int(digits))) - 1
        return i >= 0 and e164 in self.ranges[i]

    def __iter__(self):
        for r in self.ranges:
            yield from r.numbers()


def parse_pool_entry(text: str, region: str) -> NumberRange:
    """`+493012345600-+493012345699` or a single number -> NumberRange."""
    single = _try_number(text, region)
    if single is not None:
        n = int(single[1:])
        return NumberRange(n, n, len(single) - 1)
    for i, ch in enumerate(text):
        if ch != "-":
            continue
        first, last = _try_number(text[:i], region), _try_number(text[i + 1 :], region)
        if first is None or last is None:
            continue
        if len(first) != len(last):
            raise InvalidNumber(f"range {text!r}: both ends must have the same number of digits")
        lo, hi = int(first[1:]), int(last[1:])
        if lo > hi:
            raise InvalidNumber(f"range {text!r} runs backwards: {first} is after {last}")
        if hi - lo + 1 > MAX_POOL_SIZE:
            raise InvalidNumber(f"range {text!r} holds more than {MAX_POOL_SIZE:,} numbers")
        return NumberRange(lo, hi, len(first) - 1)
    raise InvalidNumber(f"{text!r} is neither a valid number nor a range FROM-TO of valid numbers")


def _try_number(text: str, region: str) -> str | None:
    try:
        return parse_number(text.strip(), region).e164
    except InvalidNumber:
        return None


def default_extension(national: str, length: int) -> str:
    """By default the extension is the last `length` digits of the number."""
    return national[-length:]
