"""The site files a command is given: files as they are, a directory as the
`*.yaml`/`*.yml` files directly inside it (not recursive, hidden files skipped,
sorted by name)."""

from __future__ import annotations

import os

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
    if not files:
        raise SiteFilesError(
            f"{directory} is a directory with no site file in it (*.yaml or *.yml, directly inside)"
        )
    return files
