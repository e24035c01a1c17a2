"""The floor of an apply: what `onenet apply` of a site from empty must do at least.

    python benchmarks/apply_floor.py SITE DB CSV ACTIONS BATCH

A fresh interpreter that loads the site file (CSafeLoader, the collector off),
then writes ACTIONS rows, one per action (each a site object as JSON, the site's
users and groups in turn), in durable SQLite transactions of BATCH rows (WAL,
synchronous=FULL, as the sandbox), a login line per user appended to a CSV that
is synced before each commit, as the credentials file is. The same batched work
as the apply, without planning or checking anything.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import sqlite3
import sys

import yaml

SECTIONS = ("users", "hunt_groups", "call_centres", "pickup_groups", "park_groups")


def main() -> None:
    gc.disable()
    site, db_path, csv_path, count, batch = sys.argv[1:6]
    with open(site, "rb") as f:
        data = yaml.load(f, Loader=yaml.CSafeLoader)
    objects = [
        (section, ident, entry)
        for section in SECTIONS
        for ident, entry in (data.get(section) or {}).items()
    ]
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE objects (n INTEGER PRIMARY KEY, kind TEXT, id TEXT, body TEXT)")
    rows = itertools.islice(itertools.cycle(objects), int(count))
    with open(csv_path, "a", encoding="utf-8") as csv:
        for start in itertools.count(0, int(batch)):
            chunk = list(itertools.islice(rows, int(batch)))
            if not chunk:
                break
            db.execute("BEGIN IMMEDIATE")
            for n, (section, ident, entry) in enumerate(chunk, start):
                db.execute(
                    "INSERT INTO objects VALUES (?, ?, ?, ?)",
                    (n, section, ident, json.dumps(entry, sort_keys=True)),
                )
                if section == "users":
                    csv.write(f"{ident},{entry.get('username', ident)},secret-{n}\n")
            csv.flush()
            os.fdatasync(csv.fileno())
            db.execute("COMMIT")
    db.close()


if __name__ == "__main__":
    main()
