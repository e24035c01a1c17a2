"""What the loader makes of unusual YAML, through `onenet validate`: each is one line
at the right place, saying what YAML read and what the site file needs."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onenet_apply.sitefile import loader, reading

SITE = "version: 1\nsite: {id: s, name: S, country: DE"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "hello\n",
            "1:1: a site file must be a mapping (version, site, users, ...), not a single value ('hello')",
        ),
        (
            "version: 1\n? [a, b]\n: 1\nsite: {id: s, name: S, country: DE}\n",
            "2:3: a key must be a plain string, not a mapping or list",
        ),
        (f"{SITE}}}\nusers: {{~: 1}}\n", "3:9: users: empty key"),
        (f"{SITE}}}\nusers: {{!!int x: 1}}\n", "3:9: users: `x` is not a valid int"),
        (
            f"{SITE}, extension_length: !!int x12}}\n",
            "2:55: site.extension_length: `x12` is not a valid int",
        ),
        (
            f"{SITE}, extension_length: .inf}}\n",
            "2:55: site.extension_length: must be a whole number, not the number inf",
        ),
        (
            f"{SITE}, unmanaged: [12]}}\n",
            '2:49: site.unmanaged[0]: must be a string, not the number 12 (write "12" in quotes '
            "to keep it as written)",
        ),
        (
            f"{SITE}, number_pool: [010]}}\n",
            "2:51: site.number_pool[0]: `010` is read by YAML 1.1 as an octal number, 8: write 8 "
            'for that number, or "010" in quotes for text',
        ),
        (
            f"{SITE}, created: 2024-01-01}}\n",
            "2:37: site.created: unknown key `created` (allowed keys: country, extension_length, "
            "id, licences, name, number_pool, platform_id, policy, unmanaged)",
        ),
        (
            "version: 1\nsite: {id: s, name: S, country: DE}\nusers:\n  anna: {first_name: A, "
            'last_name: B, number: "+493012345601", package: standard, desk_phone: ~}\n',
            "4:95: users.anna.desk_phone: must be a string, not empty (null)",
        ),
        (
            "version: 1\nsite: a: b\n",
            "2:8: YAML syntax error: mapping values are not allowed in this context",
        ),
        (
            f"{SITE}\n",
            "3:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping)",
        ),
    ],
)
def test_unusual_yaml_is_one_clear_problem(onenet, tmp_path: Path, text: str, problem: str) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(text)
    result = onenet("validate", str(site))
    assert result.code == 1
    assert result.err.splitlines() == [f"{site}:{problem}", "1 error in 1 of 1 file"]


def test_a_stream_larger_than_the_limit_is_refused(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 4096)
    fifo = tmp_path / "site.yaml"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as f, contextlib.suppress(BrokenPipeError):
            f.write(b"# padding\n" * 1000)

    writer = threading.Thread(target=write)
    writer.start()
    result = onenet("validate", str(fifo))
    os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # lets a writer still waiting go
    writer.join()
    assert result.code == 1
    assert f"{fifo}:1:1: the site is too large; the limit is 0 MB in all" in result.err


def test_more_included_files_than_the_limit_is_an_error_at_the_include(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "MAX_INCLUDED_FILES", 2)
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.yaml").write_text(f"{name}: x\n")
    site = tmp_path / "site.yaml"
    site.write_text(
        "version: 1\nsite: {id: s, name: S, country: DE}\n"
        "users: [!include a.yaml, !include b.yaml, !include c.yaml]\n"
    )
    result = onenet("validate", str(site))
    assert result.code == 1
    assert result.err.splitlines()[0] == f"{site}:3:43: users[2]: more than 2 included files"


_LETTERS = "".join(
    sorted({c for w in ("yes", "no", "true", "false", "on", "off", "null") for c in w + w.upper()})
)


@given(
    st.one_of(
        st.text(min_size=1, max_size=8).filter(lambda v: v[:1].isalpha()),
        st.text(alphabet=_LETTERS, min_size=1, max_size=5),
    )
)
@settings(max_examples=400, deadline=None)
def test_a_plain_word_is_text_unless_yaml_reads_it_as_a_boolean_or_null(value: str) -> None:
    """The loader takes a plain scalar that starts with a letter for text without
    running the resolver unless it is one of YAML 1.1's boolean or null words: the
    same answer as the resolver's, for every such scalar."""
    from yaml.nodes import ScalarNode

    from onenet_apply.sitefile.scalars import RESOLVER, STR, WORD_FIRST, WORDS_NOT_TEXT

    resolved = RESOLVER.resolve(ScalarNode, value, (True, False))
    taken_for_text = value[:1] not in RESOLVER.yaml_implicit_resolvers or (
        value[:1] in WORD_FIRST and value not in WORDS_NOT_TEXT
    )
    if taken_for_text:
        assert resolved == STR, value
    if value in WORDS_NOT_TEXT:
        assert resolved != STR, value


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Yes", True),
        ("OFF", False),
        ("Null", None),
        ("Frank", "Frank"),
        ("yEs", "yEs"),
        ("nobody", "nobody"),
    ],
)
def test_a_plain_word_loads_as_yaml_reads_it(tmp_path: Path, written: str, read: object) -> None:
    path = tmp_path / "words.yaml"
    path.write_text(f"a: {written}\nb: [{written}]\n")
    loaded = loader.load_site_file(str(path))
    assert loaded.data == {"a": read, "b": [read]}
