"""`onenet validate` hints a misspelt catalogue value from the list that place takes
names from (desk phone types for `desk_phone`, packages and options for a `licences`
key), case ignored; never from the catalogue's other lists."""

from __future__ import annotations

from pathlib import Path

import pytest

SITE = """\
version: 1
site:
  id: x
  name: X
  country: DE
  licences: {{{licence}: 4}}
users:
  anna:
    first_name: Anna
    last_name: Berg
    number: "030 12345601"
    package: {package}
    options: [{option}]
    services: [{service}]
    desk_phone: {desk_phone}
"""
GOOD = {
    "licence": "professional",
    "package": "professional",
    "option": "call-centre-basic",
    "service": "voicemail",
    "desk_phone": "yealink-t54w",
}


def validate(onenet, tmp_path: Path, **changed: str):
    site = tmp_path / "site.yaml"
    site.write_text(SITE.format(**{**GOOD, **changed}))
    return onenet("validate", str(site))


@pytest.mark.parametrize(
    ("field", "written", "where", "meant"),
    [
        ("desk_phone", "Yealink-T54W", "15:17: users.anna.desk_phone", "yealink-t54w"),
        ("desk_phone", "yealink-t45w", "15:17: users.anna.desk_phone", "yealink-t54w"),
        ("package", "Professional", "12:14: users.anna.package", "professional"),
        ("option", "Call-Centre-Basic", "13:15: users.anna.options[0]", "call-centre-basic"),
        ("service", "VoiceMail", "14:16: users.anna.services[0]", "voicemail"),
        ("licence", "Professional", "6:14: site.licences.Professional", "professional"),
    ],
)
def test_hint_from_the_right_list(onenet, tmp_path: Path, field, written, where, meant) -> None:
    result = validate(onenet, tmp_path, **{field: written})
    assert result.code == 1
    [line] = [x for x in result.err.splitlines() if x.startswith(str(tmp_path))]
    assert f"site.yaml:{where}: " in line
    assert line.endswith(f"(did you mean `{meant}`?)"), line
    assert "such as professional" not in line


def test_far_off_desk_phone_lists_desk_phones_only(onenet, tmp_path: Path) -> None:
    result = validate(onenet, tmp_path, desk_phone="Polycom_VVX_999")
    assert result.code == 1
    assert "the catalogue has: cisco-8841, gigaset-n870, none, yealink-t46u" in result.err
    assert "professional" not in result.err
