"""Option types of the `onenet` command line that click does not have."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime, timedelta

import click


class Seconds(click.ParamType):
    """A duration in seconds: a finite number, 0 or more.

    click's FloatRange lets `nan` and `inf` through (every comparison with nan is
    false), and a nan deadline is never reached: a wait would never end."""

    name = "seconds"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                number = math.nan
        if not math.isfinite(number) or number < 0:
            self.fail(
                f"{value!r} is not a number of seconds (a finite number, 0 or more)", param, ctx
            )
        return number


SECONDS = Seconds()


class OutFile(click.Path):
    """A file to write: a name that is not empty. click.Path takes `""` as the current
    directory, which then "exists"."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False)

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        if isinstance(value, str) and not value.strip():
            self.fail(f"the file name is empty ({value!r}): name a file", param, ctx)
        return super().convert(value, param, ctx)


OUT_FILE = OutFile()


def unwritable_target(path: str) -> str | None:
    """Why a new file cannot be put at `path`, checked before any work: a symlink to
    nothing (writing would replace the link, not make its target), a directory that
    does not exist or cannot be written. None if it can be tried."""
    if os.path.islink(path) and not os.path.exists(path):
        return (
            f"{path} is a symlink to a missing file ({os.readlink(path)}); "
            "name the file itself, or remove the link"
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        shown = os.path.dirname(path)
        what = "is not a directory" if os.path.exists(directory) else "does not exist"
        return f"cannot write {path}: {shown} {what}"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"cannot write {path}: the directory {os.path.dirname(path) or '.'} is not writable"
    return None


class PlatformId(click.ParamType):
    """A site's id on the platform, checked as the site file's `site.platform_id` is."""

    name = "platform id"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        import re

        from onenet_apply.sitefile.schema import site_schema

        rule = site_schema()["properties"]["site"]["properties"]["platform_id"]
        text = str(value)
        if not re.search(rule["pattern"], text):
            self.fail(f"{text!r} {rule['x-pattern-message']}", param, ctx)
        return text


PLATFORM_ID = PlatformId()


AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}  # seconds in each


class Since(click.ParamType):
    """A moment to look back to: a date or time in ISO 8601 (UTC unless it names a
    zone: 2026-11-01, 2026-11-01T09:30, 2026-11-01T09:30+01:00), or an age (90s, 30m,
    12h, 7d, 2w)."""

    name = "when"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        now = datetime.now(UTC)
        if text[:-1].isdigit() and text[-1:].lower() in AGE_UNITS:
            try:
                return now - timedelta(seconds=int(text[:-1]) * AGE_UNITS[text[-1].lower()])
            except OverflowError:
                self.fail(f"{text!r} reaches back before the year 1", param, ctx)
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            self.fail(
                f"{text!r} is neither a date or time (2026-11-01, 2026-11-01T09:30Z) nor an "
                "age (30m, 12h, 7d, 2w)",
                param,
                ctx,
            )
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


SINCE = Since()


class TargetOption(click.ParamType):
    """`--target TYPE/ID`: an object as the site file names it (user/anna, hunt_group/sales)."""

    name = "TYPE/ID"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None):
        from onenet_apply.planning.targeting import parse_target

        try:
            return parse_target(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


TARGET = TargetOption()
