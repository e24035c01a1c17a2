"""`onenet import`: a backend's current site as a site file that plans to no changes."""

from __future__ import annotations

import os
import time

import click

from onenet_apply.backends import backend_url, open_backend
from onenet_apply.cli.option_types import OUT_FILE, unwritable_target
from onenet_apply.cli.options import backend_option


@click.command("import")
@click.option("--site", "site", required=True, metavar="SITE_ID", help="Site id.")
@backend_option
@click.option(
    "--out",
    "out",
    type=OUT_FILE,
    metavar="SITE_FILE",
    help="Write the site file here (must not exist); default: stdout.",
)
@click.option("--name", default=None, help="The site's display name (default: its id).")
@click.option(
    "--country",
    default=None,
    metavar="CC",
    help="Region for national numbers (default: from the site's numbers).",
)
def import_command(
    site: str, backend: str | None, out: str | None, name: str | None, country: str | None
) -> None:
    """Write a backend's current site as a site file that plans to no changes."""
    # the stages, loaded when the command runs (see cli/validate.py)
    from onenet_apply.cli.output import write_file_atomically
    from onenet_apply.sitefile.importer import failed_note, render_site, site_document, unwritable

    platform = open_backend(backend)
    try:
        state = platform.read_state(site)
        catalogue = platform.catalogue()
    finally:
        platform.close()
    if not state.exists:
        raise click.ClickException(f"no site {site} on {backend_url(backend)}")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    text = render_site(
        site_document(state, name, country),
        "\n".join(
            filter(
                None,
                [
                    f"Imported by onenet import from {backend_url(backend)}, site {site}, "
                    f"at {stamp}.",
                    failed_note(state),
                ],
            )
        ),
    )
    if out is not None and os.path.exists(out):
        raise click.ClickException(f"{out} exists; import never overwrites a site file")
    why = unwritable_target(out) if out is not None else None
    if why is not None:
        raise click.ClickException(why)
    why = unwritable(text, catalogue)
    if why is not None:
        raise click.ClickException(
            f"site {site} on {backend_url(backend)} cannot be imported: stored records would "
            f"not pass onenet validate, so nothing was written: {why}"
        )
    if out is None:
        click.echo(text, nl=False)
        return
    write_file_atomically(out, text)
    click.echo(f"Wrote site {site} to {out} ({len(state.users)} users).", err=True)
