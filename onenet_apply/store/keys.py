"""Advisory lock keys: 64 bits from a hash of the schema and what is locked.

PostgreSQL's advisory locks are per database and share one key space across all
its schemas and users. Hashing the schema in keeps two teams (or two test runs)
in different schemas of one database apart; hashing the site as its platform
knows it (backend and site) keeps sites apart. A collision would take 2**32 sites
to become likely.
"""

from __future__ import annotations

import hashlib
import json


def advisory_key(schema: str, name: str) -> int:
    """A signed 64-bit key (PostgreSQL's bigint) for `name` in `schema`."""
    # JSON, not a separator: no schema and name can run together into another pair
    material = json.dumps(["onenet", schema, name]).encode()
    digest = hashlib.blake2b(material, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
