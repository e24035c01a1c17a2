"""sitefile/writing.py: libyaml writes site files, in the style PyYAML's own emitter gave.

The writer decides each string's style itself (plain where PyYAML's emitter writes it
plain, else double quotes) and lets libyaml write the text, several times faster. The
reference here is PyYAML's pure-Python emitter with the rules the writer states (flow
inside objects, numbers double-quoted, double quotes for single): for any text, in
block context, in a flow list and in a flow mapping, the bytes must be the same.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from onenet_apply.sitefile.writing import _Block, _dump

_NUMBER_LIKE = re.compile(r"[0-9+][0-9+\- ]*")


class PythonEmitterStyle(yaml.SafeDumper):
    """The reference: PyYAML's pure-Python emitter, single quotes made double."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def choose_scalar_style(self) -> str:
        style: str = super().choose_scalar_style()
        return '"' if style == "'" else style


PythonEmitterStyle.add_representer(
    _Block,
    lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=False),
)
PythonEmitterStyle.add_representer(
    dict, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)
PythonEmitterStyle.add_representer(
    list, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)
PythonEmitterStyle.add_representer(
    str,
    lambda d, data: d.represent_scalar(
        "tag:yaml.org,2002:str", data, style='"' if _NUMBER_LIKE.fullmatch(data) else None
    ),
)


def reference(data: _Block) -> str:
    return yaml.dump(
        data, Dumper=PythonEmitterStyle, sort_keys=False, allow_unicode=True, width=sys.maxsize
    )


def document(text: str) -> _Block:
    """`text` as a block value, in a flow list and as a flow mapping's value."""
    user = {"first_name": text, "services": [text, "voicemail"], "mobile": {"contract": text}}
    return _Block({"users": _Block({"anna": _Block(user)})})


TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from(list(":#,[]{}&*!|>'\"%@`-? .\t\n\x85\u2028\ufeff\xa0éü李")),
    max_size=12,
)


@given(TEXT)
@example("")
@example("true")
@example("No")
@example("010")
@example("1:30")
@example("1_000")
@example("~")
@example("O'Brien")
@example("Smith: Jr")
@example("a #b")
@example("- a")
@example("a,b")
@example("Müller")
@example("+49 30 1234")
@example("user.1@example.com")
def test_every_text_is_written_as_pythons_emitter_writes_it(text: str) -> None:
    assert _dump(document(text)) == reference(document(text))


def test_a_long_line_is_never_folded() -> None:
    name = "Anna " * 100 + "Schmidt"
    text = _dump(document(name))
    assert f"first_name: {name}\n" in text
    assert yaml.safe_load(text)["users"]["anna"]["mobile"]["contract"] == name
