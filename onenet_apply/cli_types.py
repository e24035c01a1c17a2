"""Option types of the `onenet` command line that click does not have."""

from __future__ import annotations

import math

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
