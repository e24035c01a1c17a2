"""The sandbox as a Backend: state reads, savepoint batches, login details, the
site lock, the journal, and the controls that play the carrier and the team."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from onenet_apply.backends.base import (
    ActionResult,
    BackendError,
    BatchResult,
    ConflictError,
    Credential,
    LockHolder,
    NotFoundError,
    Recorder,
    RefusedError,
    TransientError,
)
from onenet_apply.backends.common import BackendBase
from onenet_apply.backends.sandbox import carrier, groups, records, users
from onenet_apply.backends.sandbox.context import SiteTx, require_state
from onenet_apply.backends.sandbox.faults import Faults
from onenet_apply.backends.sandbox.journal import SandboxJournal
from onenet_apply.backends.sandbox.lock import (
    LEASE_SECONDS,
    Lease,
    LockDamage,
    LockLostError,
    LockRecord,
    break_lock,
    current_holder,
    holds,
    lock_record,
    site_lock,
)
from onenet_apply.backends.sandbox.recording import BatchRun, Recording
from onenet_apply.backends.sandbox.site_settings import KeptSiteSettings
from onenet_apply.backends.sandbox.store import (
    MissingSandboxError,
    StoreVersionError,
    connect,
    count_licences_afresh,
    guard_public_methods,
    holds_nothing,
    now_iso,
    savepoint,
    store_error,
    store_errors,
    transaction,
)
from onenet_apply.model.catalogue import Catalogue, default_catalogue
from onenet_apply.model.passwords import password_problems, verify_password
from onenet_apply.model.plan import Action, describe
from onenet_apply.model.spec import SiteSpec, frozen_map
from onenet_apply.model.state import Lifecycle, SiteState
from onenet_apply.model.vocabulary import SECTION_OF


class SandboxBackend(BackendBase[SiteTx], KeptSiteSettings, SandboxJournal):
    """Every public method reports a damaged or busy file as one BackendError
    naming the file and what to do (`store.guard_public_methods`). It keeps the
    site settings of the last apply (`KeptSiteSettings`) and a journal (`SandboxJournal`).
    The platform's operations are the rule-checking writes of users.py and
    groups.py, each given the batch's transaction (`SiteTx`)."""

    batch_size = 500  # a batch is one transaction and one disk sync: see applier.batch_size

    create_user = staticmethod(users.create_user)
    update_profile = staticmethod(users.update_profile)
    update_config = staticmethod(users.update_config)
    deactivate = staticmethod(users.deactivate)
    reactivate = staticmethod(users.reactivate)
    delete_user = staticmethod(users.delete_user)
    create_group = staticmethod(groups.create_group)
    update_group = staticmethod(groups.update_group)
    set_members = staticmethod(groups.set_members)
    delete_group = staticmethod(groups.delete_group)

    def __init__(
        self,
        path: str | Path,
        *,
        faults: Faults | None = None,
        catalogue: Catalogue | None = None,
        create: bool = True,
    ) -> None:
        self.path = Path(path)
        try:
            self.faults = faults if faults is not None else Faults.from_env()
        except ValueError as e:
            raise BackendError(str(e)) from None
        if not create and holds_nothing(self.path):
            raise MissingSandboxError(self.path)
        try:
            self.db = connect(self.path)
        except OSError as e:  # e.g. a parent of the path is a file
            at = f"{e.filename}: " if e.filename else ""
            raise BackendError(f"cannot open the sandbox {self.path}: {at}{e.strerror}") from None
        except StoreVersionError as e:
            raise BackendError(f"cannot open the sandbox {self.path}: {e}") from None
        except sqlite3.DatabaseError as e:
            raise store_error(self.path, e) from None
        self.db.row_factory = sqlite3.Row
        self._catalogue = catalogue or default_catalogue()
        self._leases: dict[str, Lease] = {}

    # -- the Backend protocol ------------------------------------------------------------
    def catalogue(self) -> Catalogue:
        return self._catalogue

    def read_state(self, site_id: str) -> SiteState:
        self._tick(site_id)
        db = self.db
        db.execute("BEGIN")  # one snapshot for every table
        try:
            site = db.execute("SELECT licences FROM sites WHERE id = ?", (site_id,)).fetchone()
            if site is None:
                return SiteState(site_id)
            user_rows = db.cursor()
            user_rows.row_factory = None  # plain tuples, read by position
            user_rows.execute(
                f"SELECT {users.SELECT_STATE} FROM users WHERE site = ? ORDER BY id", (site_id,)
            )
            current_users = {
                row[0]: self._record(site_id, "user", row[0], users.from_columns, row)
                for row in user_rows
            }
            lists = groups.member_lists(db, site_id)
            sections: dict[str, dict[str, Any]] = {s: {} for s in SECTION_OF.values()}
            for row in db.execute(
                "SELECT * FROM groups WHERE site = ? ORDER BY type, id", (site_id,)
            ):
                group_lists = lists.get((row["type"], row["id"]), {})
                current = self._record(
                    site_id, row["type"], row["id"], groups.to_current, row, group_lists
                )
                sections[SECTION_OF[row["type"]]][row["id"]] = current
        finally:
            db.execute("COMMIT")
        return SiteState(
            site_id,
            True,
            frozen_map(current_users),
            **{name: frozen_map(items) for name, items in sections.items() if name != "users"},
            licences=frozen_map(json.loads(site[0]) if site[0] else {}),
        )

    def execute_batch(
        self, site_id: str, actions: Sequence[Action], record: Recorder | None = None
    ) -> BatchResult:
        """Actions in order, one transaction (see Backend.execute_batch): a refused one
        is undone alone, the ones before it commit (`_run_batch`)."""
        if not actions:
            return BatchResult(())
        try:
            recording = Recording(record)
            with transaction(self.db, recording.rolled_back):
                tx = self._site_tx(site_id, create=True)
                run = self._run_batch(tx, actions)
                self._journal_rows_in_tx(site_id, run.journal)
                recording([r.credential for r in run.done if r.credential is not None])
                if run.commit_fails:  # after the recording, as a failed COMMIT would be
                    raise TransientError(
                        f"{run.done[-1].action_id}: injected transient failure "
                        "(the commit failed; the batch was rolled back)"
                    )
        except (RefusedError, ConflictError, NotFoundError) as e:  # a batch of one action
            self._journal(site_id, actions[0].id, "refused", str(e))
            return BatchResult((), e)
        if run.reply_lost:
            raise TransientError(
                f"{run.done[-1].action_id}: injected transient failure (reply lost)"
            )
        return BatchResult(tuple(run.done), run.error)

    def reset_login(self, site_id: str, user_id: str, record: Recorder | None = None) -> Credential:
        return self._login(site_id, user_id, "reset", None, record)

    def set_password(
        self, site_id: str, user_id: str, password: str, record: Recorder | None = None
    ) -> Credential:
        problems = password_problems(password)
        if problems:
            raise RefusedError(
                "password-rules", "the password breaks the portal's rules: " + "; ".join(problems)
            )
        return self._login(site_id, user_id, "set", password, record)

    @contextmanager
    def lock(
        self, site_id: str, timeout: float, command: str = "", lease: float = LEASE_SECONDS
    ) -> Iterator[None]:
        """The site's lock (see lock.py). While it is held, every write to the site
        first checks that the lock is still this process's own."""
        with (
            store_errors(self.path),
            site_lock(self.db, self.path, site_id, timeout, command, lease) as held,
        ):
            self._leases[site_id] = held
            try:
                yield
            finally:
                del self._leases[site_id]

    def close(self) -> None:
        self.db.close()

    # -- the carrier and the sandbox's own controls ----------------------------------------
    def activate(self, site_id: str, ids: Iterable[str] | None = None) -> carrier.CarrierOutcome:
        def settle(tx: SiteTx, ids: Iterable[str] | None) -> carrier.CarrierOutcome:
            return carrier.settle(tx.db, tx.site, ids, Lifecycle.ACTIVATED)

        return self._answer(site_id, ids, settle, "pending", "carrier", "carrier: activated")

    def fail(self, site_id: str, ids: Iterable[str] | None = None) -> carrier.CarrierOutcome:
        def settle(tx: SiteTx, ids: Iterable[str] | None) -> carrier.CarrierOutcome:
            return carrier.settle(tx.db, tx.site, ids, Lifecycle.FAILED)

        return self._answer(site_id, ids, settle, "pending", "carrier", "carrier: failed")

    def retry(self, site_id: str, ids: Iterable[str] | None = None) -> carrier.CarrierOutcome:
        """The One Net Business team retries failed activations: pending again."""
        what = "One Net Business team: retried: pending again"
        return self._answer(site_id, ids, carrier.retry, "failed", "team", what)

    def remove(self, site_id: str, ids: Iterable[str] | None = None) -> carrier.CarrierOutcome:
        """The One Net Business team removes failed users and groups."""
        what = "One Net Business team: removed"
        return self._answer(site_id, ids, carrier.remove, "failed", "team", what)

    def configure(
        self, site_id: str, *, activation: str | None = None, licences: dict[str, int] | None = None
    ) -> None:
        with transaction(self.db):
            self._site_tx(site_id, create=True)
            if activation is not None:
                self.db.execute(
                    "UPDATE sites SET activation = ? WHERE id = ?",
                    (carrier.check_mode(activation), site_id),
                )
            if licences is not None:
                owned = json.dumps(licences) if licences else None
                self.db.execute("UPDATE sites SET licences = ? WHERE id = ?", (owned, site_id))
                count_licences_afresh(self.db, site_id)

    def settings(self, site_id: str) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT activation, licences FROM sites WHERE id = ?", (site_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no site {site_id} in the sandbox {self.path}")
        return {"activation": row[0], "licences": json.loads(row[1]) if row[1] else None}

    def verify_login(self, site_id: str, user_id: str, password: str) -> bool:
        """Whether `password` is the user's current desk phone password (for tests)."""
        row = self.db.execute(
            "SELECT secret_hash FROM users WHERE site = ? AND id = ?", (site_id, user_id)
        ).fetchone()
        return row is not None and row[0] is not None and verify_password(password, row[0])

    def lock_holder(self, site_id: str) -> LockHolder | None:
        try:
            return current_holder(self.db, site_id)
        except LockDamage as e:
            raise e.error(site_id, self.path) from None

    def lock_record(self, site_id: str) -> LockRecord | None:
        """The site's lock row as stored, whether or not its holder lives."""
        try:
            return lock_record(self.db, site_id)
        except LockDamage as e:
            raise e.error(site_id, self.path) from None

    def break_lock(self, site_id: str) -> LockRecord | LockDamage | None:
        """Remove the site's lock, whoever holds it, even a damaged one; what was
        removed (what was wrong with it), or None. The journal keeps whose lock was broken."""
        record = break_lock(self.db, site_id)
        if isinstance(record, LockDamage):
            self._journal(site_id, "lock/unlock", "ok", f"damaged lock ({record}) broken by hand")
        elif record is not None:
            detail = f"lock of {record.holder.describe()} broken by hand"
            self._journal(site_id, "lock/unlock", "ok", detail)
        return record

    def seed(self, spec: SiteSpec) -> None:
        """Load a validated site whole, as activated (benchmarks and fixtures)."""
        from onenet_apply.backends.sandbox import seed  # no command loads a site this way

        seed.seed(self.db, spec)

    def check_consistency(self, site_id: str) -> list[str]:
        """Every invariant of the stored site; empty when all hold."""
        from onenet_apply.backends.sandbox import consistency  # tests and checks, not commands

        return consistency.check(self.db, site_id)

    def sites(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM sites ORDER BY id")]

    # -- internals ----------------------------------------------------------------------
    def _record(
        self, site_id: str, kind: str, record_id: str, read: Callable[..., Any], *args: Any
    ) -> Any:
        """One stored record, or one clear error naming the file, the record and why."""
        try:
            return read(*args)
        except records.READ_ERRORS as e:
            raise BackendError(
                f"the sandbox {self.path} holds a record it cannot read: "
                f"{kind.replace('_', ' ')} {site_id}/{record_id}: {records.describe_error(e)}; "
                "correct that record or restore the file from a backup"
            ) from None

    def _site_tx(self, site_id: str, create: bool = False) -> SiteTx:
        row = self.db.execute(
            "SELECT activation, licences FROM sites WHERE id = ?", (site_id,)
        ).fetchone()
        if row is None:
            if not create:
                raise NotFoundError(f"no site {site_id} in the sandbox {self.path}")
            self.db.execute(
                "INSERT INTO sites (id, created_at) VALUES (?, ?)", (site_id, now_iso())
            )
            row = ("manual", None)
        held = self._leases.get(site_id)
        if held is not None and not holds(self.db, held):
            raise LockLostError(site_id)
        activation, licences = row[0], json.loads(row[1]) if row[1] else None
        if activation != "manual":
            carrier.tick(self.db, site_id)
        return SiteTx(self.db, site_id, self._catalogue, activation, licences)

    def _run_batch(self, tx: SiteTx, actions: Sequence[Action]) -> BatchRun:
        """Carry out actions until one fails; a lone action's refusal propagates.
        A longer batch runs under one savepoint; after a refusal it goes back and runs
        again with a savepoint per action (which would cost every action: refusals are
        rare), so the refused one is undone alone and the ones before it commit."""
        if len(actions) == 1:
            return self._run(tx, actions, isolate=False)
        self.db.execute("SAVEPOINT batch")
        try:
            run = self._run(tx, actions, isolate=False)
        except (RefusedError, ConflictError, NotFoundError):
            self.db.execute("ROLLBACK TO batch")
            run = self._run(tx, actions, isolate=True, again=True)
        self.db.execute("RELEASE batch")
        return run

    def _run(
        self, tx: SiteTx, actions: Sequence[Action], isolate: bool, again: bool = False
    ) -> BatchRun:
        """Actions in order until one fails (with `isolate`, a refused one is undone alone
        and ends the run); their journal rows wait in the run, for one statement at its
        end. Run `again`, a batch strikes no injected fault: its first run struck them."""
        run = BatchRun()
        for action in actions:
            fault = not again and self.faults is not None and self.faults.strike()
            if fault and self.faults.mode == "before":
                run.note(action.id, "failed", "injected transient failure")
                run.error = TransientError(
                    f"{action.id}: injected transient failure (nothing changed)"
                )
                return run
            try:
                credential = self._carry_out(tx, action, isolate)
            except (RefusedError, ConflictError, NotFoundError) as e:
                if not isolate:
                    raise
                run.note(action.id, "refused", str(e))
                run.error = e
                return run
            run.note(action.id, "ok", describe(action))
            run.done.append(ActionResult(action.id, credential))
            if fault and self.faults.mode == "rollback":  # done, then the commit fails
                run.commit_fails = True
                return run
            if fault:  # mode lost-reply: done, but the caller never hears of it
                run.reply_lost = True
                return run
        return run

    def _carry_out(self, tx: SiteTx, action: Action, isolate: bool) -> Credential | None:
        """One action's rule checks and writes; with `isolate`, undone alone on failure."""
        if not isolate:
            return self.dispatch(tx, action)
        with savepoint(self.db, "action"):
            return self.dispatch(tx, action)

    def _tick(self, site_id: str) -> None:
        row = self.db.execute("SELECT activation FROM sites WHERE id = ?", (site_id,)).fetchone()
        if row is not None and row[0] != "manual":
            with transaction(self.db):
                carrier.tick(self.db, site_id)

    def _answer(
        self,
        site_id: str,
        ids: Iterable[str] | None,
        answer: Callable[[SiteTx, Iterable[str] | None], carrier.CarrierOutcome],
        expected: str,
        who: str,
        what: str,
    ) -> carrier.CarrierOutcome:
        """The carrier's or the team's answer for the named objects (all when None), all
        or nothing: one not `expected` (pending, failed) changes nothing."""
        with transaction(self.db):
            outcome = answer(self._site_tx(site_id), ids)
            if outcome.skipped:  # bad input changes nothing
                raise BackendError(f"not {expected}: " + "; ".join(outcome.skipped))
            for key in outcome.changed:
                self._journal_in_tx(site_id, f"{key}/{who}", "ok", what)
        return outcome

    def _login(
        self,
        site_id: str,
        user_id: str,
        event: str,
        password: str | None,
        record: Recorder | None = None,
    ) -> Credential:
        action_id = f"user/{user_id}/{'set-password' if password else 'reset-login'}"
        try:
            recording = Recording(record)
            with transaction(self.db, recording.rolled_back):
                tx = self._site_tx(site_id)
                row = tx.user(user_id)
                require_state(
                    row["lifecycle"],
                    (Lifecycle.ACTIVATED, Lifecycle.DEACTIVATED),
                    "login",
                    f"issue new login details to user {user_id}",
                )
                credential = users.issue_login(tx, row, event, password)
                recording([credential])
                self._journal_in_tx(site_id, action_id, "ok", f"{event} login details")
        except (RefusedError, NotFoundError) as e:
            self._journal(site_id, action_id, "refused", str(e))
            raise
        return credential


guard_public_methods(SandboxBackend, but=("lock",))  # lock guards its own body
