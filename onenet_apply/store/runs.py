"""Reading the apply history back: the runs of a site, newest last, with their
actions, for `onenet history`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from onenet_apply.store.connection import iso_utc

if TYPE_CHECKING:
    import psycopg

_RUNS = """
SELECT r.id, r.kind, r.site, r.platform, r.started_at, r.finished_at, r.outcome, r.message,
       r.os_user, r.host, r.pid, r.command, r.ci_run, r.source_file, r.source_commit,
       coalesce(to_jsonb(r)->>'source_digest', ''),  -- a column since schema version 2
       r.plan_digest, r.spec_digest, r.state_digest, r.summary,
       EXISTS (SELECT 1 FROM pg_stat_activity a
               WHERE a.pid = r.session_pid AND a.backend_start <= r.started_at)
FROM onenet_runs r
WHERE r.site = %(site)s AND (%(since)s::timestamptz IS NULL OR r.started_at >= %(since)s)
ORDER BY r.started_at DESC, r.id DESC
LIMIT %(limit)s
"""
_ACTIONS = """
SELECT run_id, at, action_id, outcome, message FROM onenet_run_actions
WHERE run_id = ANY(%s) ORDER BY run_id, seq
"""


@dataclass(frozen=True, slots=True)
class ActionRecord:
    at: str
    action_id: str
    outcome: str
    message: str


@dataclass(slots=True)
class RunRecord:
    id: int
    kind: str
    site: str
    platform: str
    started_at: str
    finished_at: str | None
    outcome: str  # "interrupted" for a run whose process ended without finishing
    message: str
    os_user: str
    host: str
    pid: int
    command: str
    ci_run: str
    source_file: str
    source_commit: str
    source_digest: str  # of the file's bytes: "sha256:..."
    plan_digest: str
    spec_digest: str
    state_digest: str
    summary: dict[str, int]
    actions: list[ActionRecord] = field(default_factory=list)


def read_runs(
    conn: psycopg.Connection, site_id: str, since: datetime | None, limit: int | None
) -> list[RunRecord]:
    """The site's runs since `since` (the latest `limit` of them), oldest first."""
    rows = conn.execute(_RUNS, {"site": site_id, "since": since, "limit": limit}).fetchall()
    runs = [_run(row) for row in reversed(rows)]
    by_id = {run.id: run for run in runs}
    if by_id:
        for run_id, at, action_id, outcome, message in conn.execute(_ACTIONS, (list(by_id),)):
            by_id[run_id].actions.append(ActionRecord(iso_utc(at), action_id, outcome, message))
    return runs


def _run(row: tuple[Any, ...]) -> RunRecord:
    (run_id, kind, site, platform, started, finished, outcome, message, *who) = row[:12]
    ci_run, source_file, source_commit, source_digest, plan, spec, state, summary, alive = row[12:]
    if outcome == "running" and not alive:
        outcome, message = "interrupted", message or "its process ended before it finished"
    return RunRecord(
        int(run_id), kind, site, platform, iso_utc(started),
        iso_utc(finished) if finished else None, outcome, message, who[0], who[1],
        int(who[2]), who[3], ci_run, source_file, source_commit, source_digest, plan, spec, state,
        dict(summary or {}),
    )  # fmt: skip
