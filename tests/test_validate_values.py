"""Values that look right but are not: trailing newlines, YAML 1.1 numbers, streams.

Every patterned field refuses a value with a trailing newline (Python's `$` lets
one through), through the real CLI and in both schema validators.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from onenet_apply.sitefile import reading
from onenet_apply.sitefile.schema import (
    SchemaCompileError,
    compile_schema,
    site_checker,
    site_schema,
)
from tests.conftest import FIXTURES

BASE: dict[str, Any] = {
    "version": 1,
    "site": {
        "id": "test",
        "name": "Test",
        "country": "DE",
        "number_pool": ["+493012345600-+493012345699"],
        "licences": {"professional": 5},
    },
    "users": {
        "anna": {
            "first_name": "Anna",
            "last_name": "Schmidt",
            "username": "anna.schmidt",
            "email": "anna@example.com",
            "number": "030 12345601",
            "extension": "5601",
            "package": "professional",
            "options": ["call-centre-standard"],
            "services": ["voicemail"],
            "desk_phone": "yealink-t54w",
            "mobile": {"number": "+491701234567", "contract": "C-1"},
        },
        "ben": {
            "first_name": "Ben",
            "last_name": "Meyer",
            "number": "030 12345602",
            "package": "professional",
            "status": "deactivated",
            "deactivation": {"transfer_to": "030 12345650", "caller": "hears-number"},
        },
    },
    "hunt_groups": {
        "sales": {
            "name": "Sales",
            "number": "030 12345650",
            "policy": "weighted",
            "members": ["anna"],
            "weights": {"anna": 100},
            "no_answer": {"forward_to": "030 12345602"},
        }
    },
    "call_centres": {
        "support": {
            "name": "Support",
            "number": "030 12345660",
            "edition": "standard",
            "agents": ["anna"],
        }
    },
    "call_pickup_groups": {"floor-1": {"name": "Floor 1", "members": ["anna"]}},
    "call_park_groups": {"park-1": {"name": "Park 1", "members": ["anna"]}},
}

# (path to a value or key, True when the path ends at a key)
PATTERNED: list[tuple[tuple[Any, ...], bool]] = [
    (("site", "id"), False),
    (("site", "country"), False),
    (("site", "licences", "professional"), True),
    (("users", "anna"), True),
    (("users", "anna", "username"), False),
    (("users", "anna", "email"), False),
    (("users", "anna", "number"), False),
    (("users", "anna", "extension"), False),
    (("users", "anna", "package"), False),
    (("users", "anna", "options", 0), False),
    (("users", "anna", "services", 0), False),
    (("users", "anna", "desk_phone"), False),
    (("users", "anna", "mobile", "number"), False),
    (("users", "anna", "mobile", "contract"), False),
    (("users", "ben", "deactivation", "transfer_to"), False),
    (("hunt_groups", "sales"), True),
    (("hunt_groups", "sales", "number"), False),
    (("hunt_groups", "sales", "members", 0), False),
    (("hunt_groups", "sales", "weights", "anna"), True),
    (("hunt_groups", "sales", "no_answer", "forward_to"), False),
    (("call_centres", "support"), True),
    (("call_centres", "support", "agents", 0), False),
    (("call_pickup_groups", "floor-1"), True),
    (("call_park_groups", "park-1"), True),
]


def with_newline(path: tuple[Any, ...], is_key: bool) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if is_key:
        parent[last + "\n"] = parent.pop(last)
    else:
        parent[last] += "\n"
    return doc


def test_the_base_site_is_valid(tmp_path: Path, onenet) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(BASE), "utf-8")
    result = onenet("validate", str(site))
    assert result.code == 0, result.err


@pytest.mark.parametrize(("path", "is_key"), PATTERNED, ids=lambda v: str(v))
def test_a_trailing_newline_is_refused_in_every_patterned_field(
    path: tuple[Any, ...], is_key: bool, tmp_path: Path, onenet
) -> None:
    doc = with_newline(path, is_key)
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(doc), "utf-8")
    result = onenet("validate", str(site))
    assert result.code == 1
    assert "Traceback" not in result.err
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)[1:]
    dotted += "\\n" if is_key else ""  # a key is shown with its newline escaped
    problems = [line.split(": ", 1)[1] for line in result.err.splitlines() if ": " in line]
    # the value itself is refused where it is, showing the newline (escaped)
    assert any(p.startswith(f"{dotted}: ") and "\\n" in p for p in problems), problems
    # both validators agree: the compiled checks and the reference implementation
    assert site_checker()(doc)
    assert not jsonschema.Draft202012Validator(site_schema()).is_valid(doc)


def test_every_schema_pattern_is_anchored_at_the_true_end() -> None:
    patterns: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.append(node["pattern"])
            for value in node.values():
                walk(value)

    walk(site_schema())
    assert patterns and all(p.endswith("$(?!\\n)") for p in patterns)
    with pytest.raises(SchemaCompileError, match="anchored"):
        compile_schema({"type": "string", "pattern": "^[a-z]+$"})


# -- YAML 1.1 numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read_as"),
    [
        ("010", "an octal number, 8"),
        ("0x10", "a hexadecimal number, 16"),
        ("1:30", "a sexagesimal (base 60) number, 90"),
        ("1_000", "digit separators, 1000"),
        ("0b11", "a binary number, 3"),
    ],
)
def test_yaml_1_1_numbers_are_explained_never_read_silently(
    written: str, read_as: str, tmp_path: Path, onenet
) -> None:
    text = (FIXTURES / "valid" / "minimal.yaml").read_text("utf-8")
    site = tmp_path / "site.yaml"
    site.write_text(text + f"call_park_groups:\n  p:\n    name: P\n    recall_timer: {written}\n")
    result = onenet("validate", str(site))
    assert result.code == 1
    line = next(n for n, t in enumerate(site.read_text().splitlines(), 1) if "recall_timer" in t)
    assert f"{site}:{line}:19: call_park_groups.p.recall_timer: `{written}` is read" in result.err
    assert read_as in result.err


def test_quoted_values_stay_text(tmp_path: Path, onenet) -> None:
    doc = copy.deepcopy(BASE)
    doc["users"]["anna"]["extension"] = "0101"
    doc["users"]["anna"]["username"] = "1:30"
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(doc), "utf-8")
    assert "'0101'" in site.read_text()
    result = onenet("validate", str(site))
    assert result.code == 0, result.err


# -- streams and file names ----------------------------------------------------------


def test_site_file_from_stdin(tmp_path: Path) -> None:
    text = (FIXTURES / "valid" / "minimal.yaml").read_bytes()
    for how in ("pipe", "redirect"):
        if how == "pipe":
            proc = subprocess.run(
                [sys.executable, "-m", "onenet_apply", "validate", "/dev/stdin"],
                input=text,
                capture_output=True,
                timeout=60,
            )
        else:
            source = tmp_path / "site.yaml"
            source.write_bytes(text)
            with source.open("rb") as stdin:
                proc = subprocess.run(
                    [sys.executable, "-m", "onenet_apply", "validate", "/dev/stdin"],
                    stdin=stdin,
                    capture_output=True,
                    timeout=60,
                )
        assert proc.returncode == 0, proc.stderr
        assert b"is valid" in proc.stdout


def test_a_fifo_without_writer_is_refused_not_waited_on_for_ever(
    tmp_path: Path, onenet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "STREAM_IDLE_SECONDS", 0.5)
    fifo = tmp_path / "site.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = onenet("validate", str(fifo))
    assert time.monotonic() - started < 5
    assert result.code == 1
    assert f"{fifo}:1:1: no writer opened the FIFO within 0.5 s" in result.err


def test_a_fifo_is_read_when_its_writer_comes(
    tmp_path: Path, onenet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "STREAM_IDLE_SECONDS", 5)
    fifo = tmp_path / "site.yaml"
    os.mkfifo(fifo)
    text = (FIXTURES / "valid" / "minimal.yaml").read_bytes()

    def write() -> None:
        time.sleep(0.3)
        with open(fifo, "wb") as f:
            f.write(text)

    writer = threading.Thread(target=write)
    writer.start()
    result = onenet("validate", str(fifo))
    writer.join()
    assert result.code == 0, result.err


def test_a_nul_in_an_include_name_is_an_error_at_its_place(tmp_path: Path, onenet) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        'version: 1\nsite: {id: t, name: T, country: DE}\nusers: !include "users\\0.yaml"\n'
    )
    result = onenet("validate", str(site))
    assert result.code == 1
    assert "Traceback" not in result.err
    assert f"{site}:3:8: users: !include 'users\\x00.yaml': a file name cannot hold a NUL" in (
        result.err
    )


def test_includes_of_a_piped_site_resolve_and_show_in_the_current_directory(
    tmp_path: Path,
) -> None:
    (tmp_path / "users.yaml").write_text(
        'anna: {first_name: " Anna", last_name: S, number: "030 12345601", package: standard}\n'
    )
    top = "version: 1\nsite: {id: t, name: T, country: DE}\nusers: !include users.yaml\n"
    proc = subprocess.run(
        [sys.executable, "-m", "onenet_apply", "validate", "/dev/stdin"],
        input=top.encode(),
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith(
        "users.yaml:1:20: users.anna.first_name: starts with white space"
    )


@pytest.mark.parametrize("blank", ["\u034f", "\u115f", "\u3164", "\uffa0", "\u2800", "\ufe0f"])
@pytest.mark.parametrize(
    "path",
    [
        ("users", "anna", "first_name"),
        ("users", "anna", "username"),
        ("hunt_groups", "sales", "name"),
    ],
)
def test_characters_that_render_as_nothing_are_refused(
    tmp_path: Path, onenet, blank: str, path: tuple[str, ...]
) -> None:
    """Not only control and format characters: fillers, joiners and variation selectors
    show nothing either, so two names that look the same would differ."""
    doc = copy.deepcopy(BASE)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = "An" + blank + "na"
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    result = onenet("validate", str(site))
    assert result.code == 1
    assert f"{'.'.join(path)}: holds U+{ord(blank):04X} " in result.err
    assert "at character 3; names hold visible characters only" in result.err


@settings(max_examples=2000, deadline=None)
@given(st.text(st.characters(max_codepoint=127), max_size=12))
def test_ascii_names_are_judged_by_the_same_rules(text: str) -> None:
    """Printable ASCII is accepted without a look at each character: the same answer
    as the rules (no control character, no white space at either end)."""
    from onenet_apply.sitefile.values import text_problem

    problem = text_problem(text)
    fine = all(" " <= c <= "~" for c in text) and text[:1] != " " and text[-1:] != " "
    assert (problem is None) == fine
    if problem is not None and text.strip(" ") == text:
        assert "holds U+" in problem
