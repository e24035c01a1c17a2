"""The site files a command is given: files as they are, a directory as the
`*.yaml`/`*.yml` files directly inside it (not recursive, hidden files skipped,
sorted by name), except those another file of the directory includes
(`users: !include users.yaml` beside its site file): part of that site, not a site."""

from __future__ import annotations

import os
import re

from onenet_apply.sitefile.reading import MAX_FILE_BYTES

SUFFIXES = (".yaml", ".yml")


class SiteFilesError(Exception):
    """A path that names no site file: one clear line."""


def site_files(paths: tuple[str, ...] | list[str]) -> list[str]:
    """Every site file the paths name, in the order given; a file named twice once
    (however it was spelt: `sites/a.yaml`, `./sites/a.yaml`, through a link)."""
    found: dict[str, str] = {}  # the file itself -> its name as first given
    for path in paths:
        for name in _in_directory(path) if os.path.isdir(path) else [path]:
            found.setdefault(os.path.realpath(name), name)
    return list(found.values())


def _in_directory(directory: str) -> list[str]:
    try:
        names = sorted(os.listdir(directory))
    except OSError as e:
        raise SiteFilesError(f"cannot read the directory {directory}: {e.strerror}") from None
    files = [
        os.path.join(directory, name)
        for name in names
        if name.endswith(SUFFIXES)
        and not name.startswith(".")
        and os.path.isfile(os.path.join(directory, name))
    ]
    included = _included_by(files)
    files = [f for f in files if os.path.realpath(f) not in included]
    if not files:
        raise SiteFilesError(
            f"{directory} is a directory with no site file in it (*.yaml or *.yml, directly inside)"
        )
    return files


# `!include FILE`, FILE plain or quoted, as a site file writes it
_INCLUDE = re.compile(r"""!include\s+(?:"([^"\n]+)"|'([^'\n]+)'|([^\s"'#,\[\]{}][^\n,\[\]{}]*))""")


_COMMENT = re.compile(r"(?:^|\s)#", re.MULTILINE)  # at a line's start or after a space


def _included_by(files: list[str]) -> set[str]:
    """The files (real paths) that `files` name in an `!include`, found in their text
    without reading them as YAML: comments are left out, a mention in a string counts
    (at worst a file only such a mention names is left out: planned when named), and
    a file naming itself is still a site."""
    included: set[str] = set()
    for path in files:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read(MAX_FILE_BYTES)  # the loader reads no more
        except OSError:
            continue  # its own error comes when it is read as a site
        if "!include" not in text:
            continue
        itself = os.path.realpath(path)
        for match in _INCLUDE.finditer(text):  # the name may follow on the next line
            line_start = text.rfind("\n", 0, match.start()) + 1
            if _COMMENT.search(text, line_start, match.start()):
                continue  # the tag is inside a comment (a # in the name is the name's)
            quoted = match.group(1) or match.group(2)
            target = quoted or _COMMENT.split(match.group(3), maxsplit=1)[0].strip()
            real = os.path.realpath(os.path.join(os.path.dirname(path), target))
            if real != itself:
                included.add(real)
    return included
