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

from onenet_apply.sitefile.schema import site_schema

HEAD = ("version", "site")  # the keys before the first blank line
HEADER_WIDTH = 88  # header comments are prose: wrapped, unlike the YAML below them
_NUMBER_LIKE = re.compile(r"[0-9+][0-9+\- ]*")
_STR = "tag:yaml.org,2002:str"


class _Block(dict):
    """A mapping written in block style; every other mapping and list is flow."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a site file holds no anchors (the loader refuses them)

    def choose_scalar_style(self) -> str:
        style: str = super().choose_scalar_style()
        return '"' if style == "'" else style


def _mapping(dumper: _Dumper, data: dict[str, Any]) -> yaml.Node:
    flow = not isinstance(data, _Block)
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


def _sequence(dumper: _Dumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _string(dumper: _Dumper, data: str) -> yaml.Node:
    style = '"' if _NUMBER_LIKE.fullmatch(data) else None
    return dumper.represent_scalar(_STR, data, style=style)


_Dumper.add_representer(_Block, _mapping)
_Dumper.add_representer(dict, _mapping)
_Dumper.add_representer(list, _sequence)
_Dumper.add_representer(str, _string)


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
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=sys.maxsize
    )
    return text
