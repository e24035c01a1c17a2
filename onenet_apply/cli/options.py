"""Options several commands share, defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from onenet_apply.cli.completion import complete_sites
from onenet_apply.cli.option_types import PLATFORM_ID, TARGET
from onenet_apply.cli.site_ref import SITE_REF

backend_option = click.option(
    "--backend",
    "backend",
    default=None,
    metavar="URL",
    help="Backend URL (default: $ONENET_BACKEND, else sandbox:.onenet/sandbox.db).",
)
site_option = click.option(
    "--site",
    "site",
    required=True,
    type=SITE_REF,
    metavar="SITE_ID|SITE_FILE",
    shell_complete=complete_sites,
    help="Site id, or a site file (.yaml/.yml) to read it from.",
)
platform_id_option = click.option(
    "--platform-id",
    "platform_id",
    default=None,
    type=PLATFORM_ID,
    metavar="ID",
    help="The site's id on the platform (the BroadWorks group id), when it is not the "
    "site id (a site file's site.platform_id).",
)


def format_option(help_text: str, *choices: str) -> Callable[..., Any]:
    """`--format` (into `fmt`): text, the default, or one of `choices` (json if none)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", *(choices or ("json",))]),
        default="text",
        show_default=True,
        help=help_text,
    )


state_option = click.option(
    "--state",
    "state",
    default=None,
    metavar="URL",
    help="Shared state store for the site lock and the apply history: a PostgreSQL URL "
    "(default: $ONENET_STATE; none: the backend's own). Its password comes from "
    "PGPASSWORD or ~/.pgpass, never from this option.",
)
target_option = click.option(
    "--target",
    "targets",
    multiple=True,
    type=TARGET,
    metavar="TYPE/ID",
    help="Plan only this object (user/anna, hunt_group/sales, ...) and what its changes "
    "need (a swap partner, the holder of a number it takes); repeatable. The plan is "
    "partial and says what it pulled in and why.",
)
