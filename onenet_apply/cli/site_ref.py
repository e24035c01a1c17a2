"""`--site`: a site id, or the site file that holds it, so an admin can name the file
they already have (`--site sites/berlin-hq.yaml`) wherever a site id is asked for."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import click

SITE_FILE_ENDINGS = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class SiteFile:
    """What --site read from a site file: the site id, its platform id, the file."""

    site_id: str
    platform_id: str | None
    path: str
    unmanaged: tuple[str, ...] = ()  # site.unmanaged: objects no command touches


META = "onenet.site_file"  # where the command's context keeps the SiteFile --site read


def is_site_file(value: str) -> bool:
    """An existing file named .yaml or .yml: read for its site id, never taken as one."""
    return value.lower().endswith(SITE_FILE_ENDINGS) and os.path.isfile(value)


def site_of_file(path: str) -> SiteFile:
    """The site id (and platform id) of a site file, read with the site file loader
    (includes, the YAML rules) but not validated whole. Raises ValueError with
    FILE:LINE:COL when the file cannot be read or holds no valid site id."""
    from onenet_apply.sitefile.loader import load_site_file
    from onenet_apply.sitefile.problems import Problem

    loaded = load_site_file(path)
    if loaded.problems.has_errors:
        first = min(loaded.problems.items, key=Problem.sort_key, default=None)
        raise ValueError(first.format() if first else f"{path}: cannot be read as a site file")
    site = loaded.data.get("site") if isinstance(loaded.data, dict) else None
    ident = site.get("id") if isinstance(site, dict) else None
    if not isinstance(ident, str) or not _is_site_id(ident):
        where = loaded.source.locate(("site", "id"))
        what = (
            "site.id is missing" if ident is None else f"site.id {_id_rule()['x-pattern-message']}"
        )
        raise ValueError(f"{where.file}:{where.line}:{where.column}: {what}")
    platform_id = site.get("platform_id")
    unmanaged = site.get("unmanaged", [])
    if not isinstance(unmanaged, list) or not all(isinstance(p, str) for p in unmanaged):
        # what no command may touch: never guessed (`onenet validate` says more)
        where = loaded.source.locate(("site", "unmanaged"))
        raise ValueError(
            f"{where.file}:{where.line}:{where.column}: site.unmanaged is not a list of "
            'patterns (unmanaged: ["svc-*"])'
        )
    return SiteFile(
        ident, platform_id if isinstance(platform_id, str) else None, path, tuple(unmanaged)
    )


def _id_rule() -> dict[str, Any]:
    from onenet_apply.sitefile.schema import site_schema

    rule: dict[str, Any] = site_schema()["$defs"]["object_id"]
    return rule


def _is_site_id(text: str) -> bool:
    import re

    return re.search(_id_rule()["pattern"], text) is not None


class SiteRef(click.ParamType):
    """`--site SITE_ID|SITE_FILE`: the id itself, or read from an existing .yaml/.yml
    file (kept in the context's meta for its platform id)."""

    name = "site"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        text = str(value)
        if not is_site_file(text):
            if text.lower().endswith(SITE_FILE_ENDINGS) and not _is_site_id(text):
                raise click.ClickException(f"{text}: no such site file")  # a mistyped path
            return text
        try:
            found = site_of_file(text)
        except ValueError as e:
            if ctx is not None and ctx.resilient_parsing:  # completing: no error shown
                return text
            raise click.ClickException(str(e)) from None  # FILE:LINE:COL, one line
        if ctx is not None:
            ctx.meta[META] = found
        return found.site_id


SITE_REF = SiteRef()


def site_file_read() -> SiteFile | None:
    """The site file --site named in the running command, if it named one."""
    ctx = click.get_current_context(silent=True)
    found = ctx.meta.get(META) if ctx is not None else None
    return found if isinstance(found, SiteFile) else None


def platform_id_of(platform_id: str | None) -> str | None:
    """`--platform-id`, else the site file's `site.platform_id` when --site named one."""
    if platform_id is not None:
        return platform_id
    found = site_file_read()
    return found.platform_id if found is not None else None
