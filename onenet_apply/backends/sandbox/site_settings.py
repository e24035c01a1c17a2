"""The site settings of the site file last applied, kept for `onenet import`.

The platform holds no display name, country, extension length, number pool,
policy or unmanaged patterns of a site: they live in the site file. The sandbox
keeps those of the last apply (the `SiteSettings` capability of backends/base.py),
as the `site:` block's plain JSON in `sites.applied_site`, so an import gives
them back and the imported file plans as the applied one did.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from onenet_apply.backends.base import BackendError
from onenet_apply.backends.sandbox.store import guard_public_methods, transaction
from onenet_apply.model.digest import plain
from onenet_apply.model.spec import Site


class KeptSiteSettings:
    """The SiteSettings capability, mixed into the SandboxBackend (its `db` and `path`)."""

    db: sqlite3.Connection
    path: Path

    def keep_site(self, site: Site) -> None:
        with transaction(self.db):
            keep(self.db, site)

    def kept_site(self, site_id: str) -> Site | None:
        row = self.db.execute("SELECT applied_site FROM sites WHERE id = ?", (site_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        try:
            # loaded here: plan and apply of a site file load no saved-plan code
            from onenet_apply.savedplan.spec_json import from_plain

            return from_plain(Site, json.loads(row[0]), "applied_site")
        except ValueError as e:  # bad JSON, or not the plain form of a Site
            raise BackendError(
                f"the sandbox {self.path} holds site settings it cannot read: site {site_id}: "
                f"{e}; apply the site file again to replace them"
            ) from None


def keep(db: sqlite3.Connection, site: Site) -> None:
    """Keep `site` for its site, inside the caller's transaction; no site, no change."""
    db.execute(
        "UPDATE sites SET applied_site = ? WHERE id = ?",
        (json.dumps(plain(site), ensure_ascii=False, separators=(",", ":")), site.id),
    )


guard_public_methods(KeptSiteSettings)
