"""The site id a broken file states (sitefile/stated_site.py): from the data when it
loaded, else from the YAML events before the error, wherever `site` comes."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.sitefile.stated_site import stated_site_id


@pytest.mark.parametrize(
    ("text", "stated"),
    [
        ("version: 1\nsite:\n  id: s1\n  name: S\nusers:\n  a: [1, 2]\n  bad: [\n", "s1"),
        # after other sections, complex keys and nested flow collections
        ("users:\n  a: {b: [1, {c: d}]}\n  ? [x]\n  : y\nsite: {name: x, id: s2}\nbad: [\n", "s2"),
        ("users: [\n", None),  # the error comes first
        ("site:\n  name: x\nbad: [\n", None),  # no id
        ("site:\n  id: [a]\nbad: [\n", None),  # not a name
        ("- site\n- [\n", None),  # not a mapping
        ("site: !include site.yaml\nbad: [\n", None),  # elsewhere: not read for this
    ],
)
def test_a_file_that_is_not_yaml_all_through_still_names_its_site(
    tmp_path: Path, text: str, stated: str | None
) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    assert stated_site_id(None, str(path)) == stated


def test_a_loaded_file_names_the_site_of_its_data() -> None:
    assert stated_site_id({"site": {"id": "berlin"}}, "unread.yaml") == "berlin"
    assert stated_site_id({"site": {"id": 7}}, "unread.yaml") is None
    assert stated_site_id(["site"], "unread.yaml") is None
    assert stated_site_id(None, "/nonexistent/site.yaml") is None


def test_a_pipe_is_never_opened_again(tmp_path: Path) -> None:
    """A FIFO the loader read already: opening it again would wait for a writer."""
    import os
    import threading

    fifo = tmp_path / "site.yaml"
    os.mkfifo(fifo)
    found: list[str | None] = []
    reader = threading.Thread(target=lambda: found.append(stated_site_id(None, str(fifo))))
    reader.daemon = True
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "stated_site_id waits on the FIFO"
    assert found == [None]
