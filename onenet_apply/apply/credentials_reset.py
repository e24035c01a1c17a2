"""`credentials reset`: new desk phone login details, or a chosen password, for users
of a site, under the site's lock and recorded in the credentials sink first."""

from __future__ import annotations

from dataclasses import dataclass, field

from onenet_apply.apply.credentials import CredentialsSink
from onenet_apply.apply.ledger import NO_LEDGER, ActionOutcome, Ledger, ledger_run
from onenet_apply.apply.locking import site_locks
from onenet_apply.backends.base import Backend, BackendError, SiteLocks, SiteSettings
from onenet_apply.model.state import Lifecycle, SiteState
from onenet_apply.planning.draft import unmanaged_matcher

COMMAND = "onenet credentials reset"
EVENT = "reset-login"  # the history's action name


@dataclass
class ResetReport:
    done: list[str] = field(default_factory=list)  # users with new login details
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (user, why)


def reset_credentials(
    backend: Backend,
    site: str,
    users: tuple[str, ...],
    sink: CredentialsSink,
    *,
    password: str | None = None,
    lock_timeout: float = 30.0,
    locks: SiteLocks | None = None,
    ledger: Ledger = NO_LEDGER,
    unmanaged: tuple[str, ...] | None = None,
) -> ResetReport:
    """New login details for `users` (every user with a desk phone when empty), or the
    chosen `password`. Unknown users change nothing; pending or failed ones, and
    users without a desk phone, are skipped with the reason. `ledger` hears of each.

    Users matching `unmanaged` (site.unmanaged of the site file; None: the patterns
    of the site file last applied, where the backend keeps them) are never touched:
    left out of every user, skipped with the reason when named."""
    report = ResetReport()
    with (
        site_locks(backend, locks).lock(site, lock_timeout, COMMAND),
        sink,
        ledger_run(ledger) as ending,
    ):
        state = backend.read_state(site)
        if unmanaged is None:
            unmanaged = kept_unmanaged(backend, site)
        targets, report.skipped = reset_targets(state, users, unmanaged)
        ledger.record(
            [ActionOutcome(f"user/{u}/{EVENT}", "skipped", why) for u, why in report.skipped]
        )
        what = "new desk phone login details issued" if password is None else "password set"
        for uid in targets:
            ledger.before_batch()
            if password is None:
                backend.reset_login(site, uid, sink)
            else:
                backend.set_password(site, uid, password, sink)
            report.done.append(uid)
            ledger.record([ActionOutcome(f"user/{uid}/{EVENT}", "ok", what)])
        ending.settle(
            "ok" if report.done or not report.skipped else "failed",
            {"reset": len(report.done), "skipped": len(report.skipped)},
        )
    return report


def kept_unmanaged(backend: Backend, site: str) -> tuple[str, ...]:
    """site.unmanaged of the site file last applied, where the backend keeps it."""
    kept = backend.kept_site(site) if isinstance(backend, SiteSettings) else None
    return kept.unmanaged if kept is not None else ()


def reset_targets(
    state: SiteState, named: tuple[str, ...], unmanaged: tuple[str, ...] = ()
) -> tuple[list[str], list[tuple[str, str]]]:
    """Who gets new details, and who is skipped with why. Unknown names change nothing."""
    if not state.exists:
        raise BackendError(f"no site {state.site_id} on the backend")
    unknown = [u for u in named if u not in state.users]
    if unknown:
        raise BackendError(f"no such user on site {state.site_id}: {', '.join(unknown)}")
    left_alone = unmanaged_matcher(unmanaged)
    chosen = list(dict.fromkeys(named)) if named else sorted(state.users)
    targets, skipped = [], []
    for uid in chosen:
        current = state.users[uid]
        if left_alone(uid):
            if named:
                skipped.append((uid, "is not managed by the site file (site.unmanaged)"))
        elif current.item.desk_phone == "none":
            if named:
                skipped.append((uid, "has no desk phone"))
        elif current.lifecycle is Lifecycle.PENDING:
            skipped.append((uid, "is pending: login details can be renewed once it is activated"))
        elif current.lifecycle is Lifecycle.FAILED:
            skipped.append((uid, "its activation failed: contact the One Net Business team"))
        else:
            targets.append(uid)
    return targets, skipped
