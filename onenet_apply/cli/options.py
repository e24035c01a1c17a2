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
jobs_option = click.option(
    "--jobs",
    "jobs",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Sites validated and planned at once, each in a process of its own "
    "(default: the number of cores).",
)


def site_paths(paths: tuple[str, ...]) -> list[str]:
    """The site files PATHs name (a directory: its *.yaml/*.yml directly inside)."""
    from onenet_apply.multisite.discovery import SiteFilesError, site_files

    try:
        return site_files(paths)
    except SiteFilesError as e:
        raise click.ClickException(str(e)) from None


def jobs_or_cores(jobs: int | None) -> int:
    from onenet_apply.multisite.runner import default_jobs

    return jobs if jobs is not None else default_jobs()
