"""Options several commands share, defined once."""

from __future__ import annotations

import click

backend_option = click.option(
    "--backend",
    "backend",
    default=None,
    metavar="URL",
    help="Backend URL (default: $ONENET_BACKEND, else sandbox:.onenet/sandbox.db).",
)
site_option = click.option("--site", "site", required=True, metavar="SITE_ID", help="Site id.")
