"""Phone numbers as BroadWorks writes them: `+CC-NATIONAL`.

The site file holds E.164 (`+493012345650`). BroadWorks keeps a directory
number as national digits with a country code; written `+49-3012345650` it
carries both, so neither side needs the group's country code to convert.
"""

from __future__ import annotations

import phonenumbers


def dn(number: str) -> str:
    """`+493012345650` -> `+49-3012345650`."""
    parsed = phonenumbers.parse(number, None)
    return f"+{parsed.country_code}-{phonenumbers.national_significant_number(parsed)}"


def e164(number: str, country_code: str | None = None) -> str:
    """A directory number as BroadWorks reports it, in E.164: `+49-3012345650`
    as it is, national digits with the country code the server gives beside them."""
    if number.startswith("+"):
        return number.replace("-", "")
    return f"+{country_code}{number}" if country_code else number
