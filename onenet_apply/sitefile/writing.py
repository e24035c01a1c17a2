"""Site files written in one stable style, the example's (examples/site.yaml).

Block mappings down to the site and to each user and group, flow style inside
them; keys in the order of the schema; numbers and extensions (a string of digits,
`+`, `-` and spaces) in double quotes, other strings plain unless YAML needs
quotes (then double ones too); a line is never wrapped; a blank line between
sections. The same document always gives the same bytes, so a re-import of an
unchanged site makes no diff.
"""

from __future__ import annotations

import re
import sys
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from yaml.emitter import Emitter
from yaml.nodes import ScalarNode

from onenet_apply.sitefile.schema import site_schema

HEAD = ("version", "site")  # the keys before the first blank line
HEADER_WIDTH = 88  # header comments are prose: wrapped, unlike the YAML below them
_NUMBER_LIKE = re.compile(r"[0-9+][0-9+\- ]*")
_STR = "tag:yaml.org,2002:str"


class _Block(dict):
    """A mapping written in block style; every other mapping and list is flow."""


class _SiteStyle:
    """What both writers share: no anchors, and how deep in flow collections the node
    being made is (`_plain` reads it)."""

    flow_level = 0

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a site file holds no anchors (the loader refuses them)


class _Dumper(_SiteStyle, yaml.CSafeDumper):
    """libyaml writes the text (PyYAML's own emitter took most of an import's time);
    the style of every string is decided here, as PyYAML's emitter decides it
    (`_string`), so the bytes are the ones PyYAML's emitter would write."""


class _PythonDumper(_SiteStyle, yaml.SafeDumper):
    """PyYAML's own emitter, for a section holding characters beyond the Basic
    Multilingual Plane (emoji, rarer CJK ideographs): libyaml holds them unprintable
    and would write them as `\\U` escapes, PyYAML as they are."""

    def choose_scalar_style(self) -> str:
        style: str = super().choose_scalar_style()
        return '"' if style == "'" else style


# Strings PyYAML's emitter writes plain in block and flow context alike (when the
# resolver reads them back as strings): a letter first, no indicator, no `: ` or
# ` #`, no flow punctuation, no space at the end. Names, usernames and emails mostly
# are; the others are analysed as the emitter analyses them.
_PLAIN_ANYWHERE = re.compile(r"[A-Za-z](?:[A-Za-z0-9 .'_@-]*[A-Za-z0-9.'_@-])?")
_ANALYSIS = Emitter(None, allow_unicode=True)


def _plain(dumper: _Dumper | _PythonDumper, text: str) -> bool:
    """Whether PyYAML's emitter writes `text` plain where it stands: never when the
    plain form reads back as something else (`true`, `010`, ``), else as its analysis
    allows in flow or block context."""
    if dumper.resolve(ScalarNode, text, (True, False)) != _STR:
        return False
    if _PLAIN_ANYWHERE.fullmatch(text):
        return True
    analysis = _ANALYSIS.analyze_scalar(text)
    return analysis.allow_flow_plain if dumper.flow_level else analysis.allow_block_plain


def _string(dumper: _Dumper | _PythonDumper, data: str) -> yaml.Node:
    """Numbers and extensions double-quoted; other strings plain where plain is
    allowed, else double-quoted (never single-quoted: one quoting style)."""
    plain = not _NUMBER_LIKE.fullmatch(data) and _plain(dumper, data)
    return dumper.represent_scalar(_STR, data, style=None if plain else '"')


def _mapping(dumper: _Dumper | _PythonDumper, data: dict[str, Any]) -> yaml.Node:
    flow = not isinstance(data, _Block)
    dumper.flow_level += flow
    try:
        return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)
    finally:
        dumper.flow_level -= flow


def _sequence(dumper: _Dumper | _PythonDumper, data: list[Any]) -> yaml.Node:
    dumper.flow_level += 1
    try:
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
    finally:
        dumper.flow_level -= 1


for _writer in (_Dumper, _PythonDumper):
    _writer.add_representer(_Block, _mapping)
    _writer.add_representer(dict, _mapping)
    _writer.add_representer(list, _sequence)
    _writer.add_representer(str, _string)


def render_site_file(document: dict[str, Any], header: list[str]) -> str:
    """The document as a site file: the schema modeline, each paragraph of `header` as
    comment lines, then `version` and `site`, then each section after a blank line."""
    schema = site_schema()
    ordered = _ordered(document, schema, schema)
    chunks = [_dump(_Block({k: _blocks(k, ordered[k]) for k in HEAD if k in ordered}))]
    chunks += [_dump(_Block({k: _blocks(k, v)})) for k, v in ordered.items() if k not in HEAD]
    reference = schema_reference()
    lines = [f"yaml-language-server: $schema={reference}"] if reference else []
    for paragraph in header:
        lines += textwrap.wrap(
            paragraph, HEADER_WIDTH - 2, break_long_words=False, break_on_hyphens=False
        ) or [""]
    return "".join(f"# {line}".rstrip() + "\n" for line in lines) + "\n".join(chunks)


def schema_reference() -> str | None:
    """The file URL of the site schema this installed onenet ships (what it validates
    with), or None when the package is not on disk as files (a zip)."""
    schema = resources.files("onenet_apply").joinpath("data/site.schema.json")
    if isinstance(schema, Path) and schema.is_file():
        return schema.resolve().as_uri()
    return None


def _blocks(key: str, value: Any) -> Any:
    """Block style for the site and for a section and each of its objects."""
    if key == "site":
        return _Block(value)
    if key in HEAD:
        return value
    return _Block({ident: _Block(fields) for ident, fields in value.items()})


def _ordered(value: Any, fragment: dict[str, Any], schema: dict[str, Any]) -> Any:
    """`value` with every mapping's keys in the order its schema fragment lists them
    (keys it does not list keep their order, after them)."""
    ref = fragment.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        fragment = schema["$defs"][ref.removeprefix("#/$defs/")]
    if isinstance(value, dict):
        known = list(fragment.get("properties", {}))
        rank = {key: i for i, key in enumerate(known)}
        keys = sorted(value, key=lambda k: rank.get(k, len(known)))
        other = fragment.get("additionalProperties")
        return {
            k: _ordered(
                value[k],
                fragment.get("properties", {}).get(k) or (other if isinstance(other, dict) else {}),
                schema,
            )
            for k in keys
        }
    if isinstance(value, list | tuple):
        return [_ordered(v, fragment.get("items", {}), schema) for v in value]
    return value


def _dump(data: _Block) -> str:
    if _beyond_the_bmp(data):
        text: str = yaml.dump(
            data, Dumper=_PythonDumper, sort_keys=False, allow_unicode=True, width=sys.maxsize
        )
    else:  # width -1: libyaml never folds a line
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=-1)
    return text


def _beyond_the_bmp(value: Any) -> bool:
    """Whether any text in `value` holds a character above U+FFFF."""
    if isinstance(value, str):
        return not value.isascii() and max(value) > "\uffff"
    if isinstance(value, dict):
        return any(_beyond_the_bmp(k) or _beyond_the_bmp(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(map(_beyond_the_bmp, value))
    return False
