"""`onenet import`: a backend's current site as a site file that plans to no changes."""

from __future__ import annotations

import os

import click

from onenet_apply.backends import backend_url, open_backend
from onenet_apply.cli.option_types import OUT_FILE, unwritable_target
from onenet_apply.cli.options import backend_option, platform_id_option, site_option
from onenet_apply.cli.site_ref import platform_id_of


@click.command("import")
@site_option
@platform_id_option
@backend_option
@click.option(
    "--out",
    "out",
    type=OUT_FILE,
    metavar="SITE_FILE",
    help="Write the site file here (must not exist); default: stdout.",
)
@click.option(
    "--name",
    default=None,
    help="The site's display name (default: the one last applied, else its id).",
)
@click.option(
    "--country",
    default=None,
    metavar="CC",
    help="Region for national numbers (default: the one last applied, else from the "
    "site's numbers).",
)
def import_command(
    site: str,
    platform_id: str | None,
    backend: str | None,
    out: str | None,
    name: str | None,
    country: str | None,
) -> None:
    """Write a backend's current site as a site file that plans to no changes."""
    platform_id = platform_id_of(platform_id)  # --site FILE: the file's
    # the stages, loaded when the command runs (see cli/validate.py)
    from onenet_apply.backends.base import SiteSettings, address_site
    from onenet_apply.cli.output import write_file_atomically
    from onenet_apply.sitefile.importer import failed_note, import_site, unwritable
    from onenet_apply.sitefile.writing import render_site_file

    platform = open_backend(backend)
    try:
        address_site(platform, site, platform_id)
        state = platform.read_state(site)
        catalogue = platform.catalogue()
        keeps_settings = isinstance(platform, SiteSettings)
        kept = platform.kept_site(site) if isinstance(platform, SiteSettings) else None
    finally:
        platform.close()
    if not state.exists:
        group = f" (platform id {platform_id})" if platform_id else ""
        raise click.ClickException(f"no site {site}{group} on {backend_url(backend)}")
    imported = import_site(
        state, kept, name, country, keeps_settings=keeps_settings, platform_id=platform_id
    )
    header = [
        f"Imported by onenet import from {backend_url(backend)}, site {site}.",
        *imported.notes,
        *failed_note(state).splitlines(),
    ]
    text = render_site_file(imported.document, header)
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
    click.echo(f"Wrote site {site} to {out} ({len(state.users)} users).")
