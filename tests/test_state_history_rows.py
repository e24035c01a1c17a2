"""The history's action rows as the store keeps them: each batch goes in with one
statement (store/action_rows.py), and reads back as it was recorded, in order,
whatever the text holds."""

from __future__ import annotations

from onenet_apply.apply.ledger import ActionOutcome
from onenet_apply.store.actor import Actor
from onenet_apply.store.address import StateAddress
from onenet_apply.store.runs import read_runs
from onenet_apply.store.session import open_store

SITE = "berlin-hq"
ACTOR = Actor("anna", "ci-7", 4121, "onenet apply")


def test_batches_of_action_rows_read_back_in_order_as_recorded(pg_url: str) -> None:
    store = open_store(StateAddress(pg_url, "--state"), ACTOR, SITE)
    try:
        locks = store.locks(lambda site: f"sandbox:/x.db#{site}")
        first = [
            ActionOutcome(f"user/u{i}/create", "ok", f"create user/u{i} (name)") for i in range(3)
        ]
        second = [
            ActionOutcome(
                "user/zoë/update-config", "ok", "update-config user/zoë (name, ünïcode ✓)"
            ),
            ActionOutcome("user/x/create", "refused", "number +49 30 1234 is taken\tby user/y"),
            ActionOutcome("group/g/create", "failed", ""),
        ]
        with locks.lock(SITE, 5):
            log = store.run_log("apply", SITE, locks)
            log.begin()
            log.record(first)
            log.record([])
            log.record(second)
            log.end("failed", {"applied": 4})
        (run,) = read_runs(store.conn, SITE, None, None)
    finally:
        store.close()
    assert [(a.action_id, a.outcome, a.message) for a in run.actions] == [
        (o.action_id, o.outcome, o.message) for o in first + second
    ]
    assert run.outcome == "failed" and run.summary == {"applied": 4}
    assert all(a.at.endswith("Z") for a in run.actions)
