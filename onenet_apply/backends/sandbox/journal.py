"""The sandbox's journal, and the name a shared store knows the sandbox's sites by.

Every executed, refused or failed action, lock break and carrier answer is a row of
the `journal` table, written in the transaction that made the change (never a
secret); `onenet history` reads it when no shared store is given.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from onenet_apply.backends.base import JournalEntry
from onenet_apply.backends.sandbox.recording import JournalRow
from onenet_apply.backends.sandbox.store import guard_public_methods, now_iso, transaction


class SandboxJournal:
    """The Journal and PlatformNames capabilities, mixed into the SandboxBackend (its
    `db` and `path`)."""

    db: sqlite3.Connection
    path: Path

    def journal(self, site_id: str, limit: int | None = None) -> list[JournalEntry]:
        rows = self.db.execute(
            "SELECT seq, at, site, action_id, outcome, detail FROM journal WHERE site = ? "
            "ORDER BY seq DESC LIMIT ?",
            (site_id, -1 if limit is None else limit),
        ).fetchall()
        return [JournalEntry(*row) for row in reversed(rows)]

    def platform_name(self, site_id: str) -> str:
        """The sandbox file, wherever it is reached from on this machine, and the site."""
        return f"sandbox:{os.path.realpath(self.path)}#{site_id}"

    def _journal_in_tx(self, site_id: str, action_id: str, outcome: str, detail: str) -> None:
        self._journal_rows_in_tx(site_id, [(now_iso(), action_id, outcome, detail)])

    def _journal_rows_in_tx(self, site_id: str, rows: list[JournalRow]) -> None:
        """A batch's rows (at, action_id, outcome, detail) in one statement, in order."""
        self.db.executemany(
            "INSERT INTO journal (at, site, action_id, outcome, detail) VALUES (?, ?, ?, ?, ?)",
            [(at, site_id, action_id, outcome, detail) for at, action_id, outcome, detail in rows],
        )

    def _journal(self, site_id: str, action_id: str, outcome: str, detail: str) -> None:
        with transaction(self.db):
            self._journal_in_tx(site_id, action_id, outcome, detail)


guard_public_methods(SandboxJournal)
