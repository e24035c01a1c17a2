"""The strict loader: positions, duplicate keys, includes and hostile input.

Every hostile file must fail fast, with one clear message, no traceback, and
bounded memory, through the real command line.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from onenet_apply.sitefile.loader import MAX_DEPTH, load_site_file

SITE_HEAD = "version: 1\nsite: {id: t, name: T, country: DE}\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    return path


def run_limited(path: Path, memory_mb: int = 400) -> tuple[int, str, float]:
    """`onenet validate PATH` in a subprocess capped at `memory_mb` of address space."""

    def limit() -> None:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "onenet_apply", "validate", str(path)],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=60,
    )
    return proc.returncode, proc.stderr, time.perf_counter() - start


def billion_laughs() -> str:
    lines = ["lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        refs = ", ".join([f"*lol{i - 1}"] * 10)
        lines.append(f"lol{i}: &lol{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_fails_fast_with_bounded_memory(tmp_path: Path) -> None:
    path = write(tmp_path, "laughs.yaml", billion_laughs())
    code, err, seconds = run_limited(path)
    assert code == 1
    assert "YAML aliases (*lol0) are not supported" in err
    assert "Traceback" not in err
    assert seconds < 5  # interpreter start included; the load itself takes milliseconds


def test_billion_laughs_load_is_quick_in_process(tmp_path: Path) -> None:
    path = write(tmp_path, "laughs.yaml", billion_laughs())
    start = time.perf_counter()
    loaded = load_site_file(str(path))
    assert time.perf_counter() - start < 0.5
    # each of the 90 aliases is reported where it is, never expanded
    assert [(p.position.line, p.message) for p in loaded.problems.items] == [
        (line, f"YAML aliases (*lol{line - 2}) are not supported: write the value out")
        for line in range(2, 11)
        for _ in range(10)
    ]


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a: ", "}")])
def test_deep_nesting_is_refused_before_the_parser_gets_slow(
    tmp_path: Path, opener: str, closer: str
) -> None:
    depth = 200_000  # would crash libyaml's composer and take minutes to parse
    path = write(tmp_path, "deep.yaml", "a: " + opener * depth + closer * depth + "\n")
    code, err, seconds = run_limited(path)
    assert code == 1
    assert f"nesting is deeper than {MAX_DEPTH} levels" in err
    assert "Traceback" not in err
    assert seconds < 5


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 999, 1001, 5000])
def test_every_deep_nesting_gets_the_same_message_whoever_stops_it(
    tmp_path: Path, depth: int
) -> None:
    # below libyaml's own limit (1000 in newer builds) our guard stops it; above,
    # libyaml's scanner may stop it first: the admin sees one message either way
    path = write(tmp_path, "deep.yaml", "a: " + "[" * depth + "]" * depth + "\n")
    messages = [p.message for p in load_site_file(str(path)).problems.items]
    assert messages == [f"nesting is deeper than {MAX_DEPTH} levels"]


def test_libyaml_nesting_error_is_reported_as_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # whatever PyYAML is installed, libyaml's own depth error must read as ours
    import yaml

    from onenet_apply.sitefile import loader

    class ScannerThatGivesUp:
        def __init__(self, text: str) -> None:
            self.mark = yaml.Mark("deep.yaml", 0, 0, 1003, None, None)

        def get_event(self) -> None:
            raise yaml.scanner.ScannerError(None, None, "exceeded maximum nesting depth", self.mark)

    monkeypatch.setattr(loader, "_Loader", ScannerThatGivesUp)
    path = write(tmp_path, "deep.yaml", "a: [[[]]]\n")
    problems = load_site_file(str(path)).problems.items
    assert [(p.position.line, p.position.column, p.message) for p in problems] == [
        (1, 1004, f"nesting is deeper than {MAX_DEPTH} levels")
    ]


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "rec.yaml", SITE_HEAD + "users: &u {a: *u}\n")
    loaded = load_site_file(str(path))
    messages = [p.message for p in loaded.problems.items]
    assert messages == ["YAML aliases (*u) are not supported: write the value out"]


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as f:
        f.truncate(51 * 1024 * 1024)  # sparse: costs no disk
    code, err, seconds = run_limited(path, memory_mb=200)
    assert code == 1
    assert "the site is too large (53,477,376 bytes); the limit is 50 MB in all" in err
    assert seconds < 5


def test_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bin.yaml", b"version: 1\n\x00\x01\x02")
    loaded = load_site_file(str(path))
    [problem] = loaded.problems.items
    assert problem.message == "this is a binary file, not YAML text"
    assert (problem.position.line, problem.position.column) == (2, 1)


def test_non_utf8_names_the_byte_and_its_place(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.yaml", "version: 1\nname: Müller\n".encode("latin-1"))
    loaded = load_site_file(str(path))
    [problem] = loaded.problems.items
    assert problem.message == "the file is not valid UTF-8 (byte 0xfc); save it as UTF-8"
    assert (problem.position.line, problem.position.column) == (2, 8)


def test_python_tags_never_execute(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for i, tag in enumerate(
        [
            f"!!python/object/apply:os.system ['touch {marker}']",
            f"!!python/object/new:os.system ['touch {marker}']",
            "!!python/name:os.system ''",
        ]
    ):
        path = write(tmp_path, f"tag{i}.yaml", SITE_HEAD + f"users: {tag}\n")
        code, err, _ = run_limited(path)
        assert code == 1
        assert "unsupported YAML tag" in err
        assert "Traceback" not in err
    assert not marker.exists()


def test_control_characters(tmp_path: Path) -> None:
    path = write(tmp_path, "ctl.yaml", 'version: 1\nsite: "\x07"\n')
    [problem] = load_site_file(str(path)).problems.items
    assert problem.message == "unreadable YAML: control characters are not allowed"
    assert problem.position.line == 2


def test_directory_instead_of_file(tmp_path: Path) -> None:
    [problem] = load_site_file(str(tmp_path)).problems.items
    assert problem.message == "is a directory, not a site file"


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    text = SITE_HEAD.replace("\n", "\r\n")
    path = write(tmp_path, "bom.yaml", b"\xef\xbb\xbf" + text.encode("utf-8"))
    loaded = load_site_file(str(path))
    assert not loaded.problems.items
    assert loaded.data["site"]["id"] == "t"


def test_positions_point_at_keys_and_values(tmp_path: Path) -> None:
    path = write(tmp_path, "pos.yaml", SITE_HEAD + "users:\n  anna:\n    first_name:   Anna\n")
    loaded = load_site_file(str(path))
    source = loaded.source
    key = source.locate(("users", "anna", "first_name"), "key")
    value = source.locate(("users", "anna", "first_name"), "value")
    assert (key.line, key.column) == (5, 5)
    assert (value.line, value.column) == (5, 19)


def test_duplicate_key_is_reported_at_the_second_key(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "version: 1\nsite: {id: a, id: b}\n")
    loaded = load_site_file(str(path))
    [problem] = loaded.problems.items
    assert problem.message == "duplicate key `id` (first defined at line 2)"
    assert (problem.position.line, problem.position.column) == (2, 15)
    assert loaded.data["site"]["id"] == "a"  # never a silent overwrite


def test_duplicate_keys_past_the_cap_are_counted_quickly(tmp_path: Path) -> None:
    """Finding where a duplicate key was first defined scans its mapping; past the cap
    the problem is only counted, so a hostile file of duplicates in a huge mapping
    stays quick."""
    body = "".join(f"  u{i}: 1\n" for i in range(20_000))
    body += "".join(f"  u{i}: 2\n  v{i}: 3\n" for i in range(19_000, 20_000)) * 3
    path = write(tmp_path, "dups.yaml", "users:\n" + body)
    start = time.perf_counter()
    loaded = load_site_file(str(path))
    assert time.perf_counter() - start < 5
    assert len(loaded.problems.items) == 1000 and loaded.problems.dropped == 4000
    first = loaded.problems.items[0]
    assert first.message == "duplicate key `u19000` (first defined at line 19002)"
    assert loaded.source.locate(("users", "v19999")).line == 20_000 + 2 * 1000 + 1


def test_field_names_are_one_string_each_and_marks_are_compact(tmp_path: Path) -> None:
    """A large site repeats its field names in every entry: one string serves them all,
    and positions are packed, so a loaded site costs a fraction of yaml.load's memory."""
    import tracemalloc

    from benchmarks.sitegen import generate

    path = tmp_path / "site.yaml"
    path.write_text("".join(generate(2000, 400)), encoding="utf-8")
    load_site_file(str(path))  # caches and imports out of the count
    tracemalloc.start()
    try:
        loaded = load_site_file(str(path))
        per_user = tracemalloc.get_traced_memory()[0] / 2000
    finally:
        tracemalloc.stop()
    first, second = (dict(zip(u, u, strict=True)) for u in list(loaded.data["users"].values())[:2])
    assert all(first[k] is second[k] for k in first.keys() & second.keys())
    assert per_user < 2_900  # bytes: data, marks and raw scalars (3,350 with dicts of ints)


def test_problems_are_capped(tmp_path: Path) -> None:
    body = "".join(f"k{i}: *a\n" for i in range(3000))
    path = write(tmp_path, "many.yaml", "a: &a 1\n" + body)
    loaded = load_site_file(str(path))
    assert len(loaded.problems.items) == 1000
    assert loaded.problems.dropped == 2000


# -- includes -----------------------------------------------------------------


def test_include_positions_name_the_included_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "users.yaml",
        "anna:\n  first_name: Anna\n  last_name: S\n"
        '  number: "030 12345601"\n  package: professionel\n',
    )
    top = write(tmp_path, "site.yaml", SITE_HEAD + "users: !include users.yaml\n")
    from onenet_apply.sitefile.validate import validate_file

    [problem] = validate_file(str(top)).problems
    assert problem.position.file == str(tmp_path / "users.yaml")
    assert (problem.position.line, problem.position.column) == (5, 12)
    assert problem.dotted_path == "users.anna.package"


def test_include_cycle_is_detected(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "x: !include b.yaml\n")
    write(tmp_path, "b.yaml", "y: !include a.yaml\n")
    top = write(tmp_path, "site.yaml", SITE_HEAD + "users: !include a.yaml\n")
    messages = [p.message for p in load_site_file(str(top)).problems.items]
    assert messages == ["!include a.yaml: include cycle (a.yaml includes itself)"]


def test_include_of_the_top_file_is_a_cycle(tmp_path: Path) -> None:
    top = write(tmp_path, "site.yaml", SITE_HEAD + "users: !include site.yaml\n")
    messages = [p.message for p in load_site_file(str(top)).problems.items]
    assert messages == ["!include site.yaml: include cycle (site.yaml includes itself)"]


@pytest.mark.parametrize("target", ["../secret.yaml", "/etc/passwd", "link/secret.yaml"])
def test_include_may_not_leave_the_site_directory(tmp_path: Path, target: str) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.yaml", "x: 1\n")
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    os.symlink(outside, site_dir / "link")
    (tmp_path / "secret.yaml").write_text("x: 1\n")
    top = write(site_dir, "site.yaml", SITE_HEAD + f"users: !include {target}\n")
    [problem] = load_site_file(str(top)).problems.items
    assert problem.message == (
        f"!include {target}: included files must stay inside the directory of the top site file"
    )


def test_empty_included_file(tmp_path: Path) -> None:
    write(tmp_path, "users.yaml", "# to do\n")
    top = write(tmp_path, "site.yaml", SITE_HEAD + "users: !include users.yaml\n")
    [problem] = load_site_file(str(top)).problems.items
    assert problem.message == "the file is empty"
    assert problem.position.file.endswith("users.yaml")


@pytest.mark.parametrize(
    ("make", "what"),
    [(os.mkdir, "a directory"), (os.mkfifo, "a FIFO (named pipe)")],
    ids=["directory", "fifo"],
)
def test_an_include_of_something_that_is_not_a_file_says_what_it_is(
    onenet, tmp_path: Path, make, what: str
) -> None:
    make(tmp_path / "users")
    top = write(tmp_path, "site.yaml", SITE_HEAD + "users: !include users\n")
    result = onenet("validate", str(top))
    assert result.code == 1
    assert (
        f"users: !include users: is {what}, not a file: an included file must be a regular file"
    ) in result.err
    assert "no such file" not in result.err
