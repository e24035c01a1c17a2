"""The backend contract: what the planner and applier need from a platform.

`Backend` is small and storage-agnostic, so the embedded sandbox and BroadWorks
OCI-P can both implement it; `backends.common` has the half every backend
shares. The site lock and the journal are separate capabilities (`SiteLocks`,
`Journal`): a backend may keep them, or leave them to a shared store; so may it
keep the settings of the site file last applied (`SiteSettings`), and know a site
by another id than the site file's (`SiteAddresses`). Secrets
leave a backend only inside a `Credential`, handed to the caller once.
docs/design.md describes the contract in full.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from onenet_apply.backends.errors import (  # noqa: F401 (the contract's errors, re-exported)
    BackendError,
    ConflictError,
    NotFoundError,
    RefusedError,
    TransientError,
)
from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.plan import Action
from onenet_apply.model.spec import Site
from onenet_apply.model.state import SiteState


class LockTimeout(BackendError):
    def __init__(
        self, site_id: str, holder: LockHolder | None, waited: float, hint: str = ""
    ) -> None:
        if holder is None and hint:  # no holder to name: the hint says what stood in the way
            message = f"site {site_id} could not be locked; waited {waited:.0f}s: {hint}"
        else:
            who = holder.describe() if holder else "another process"
            message = f"site {site_id} is locked by {who}; waited {waited:.0f}s"
            message += f"; {hint}" if hint else ""
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a site's apply lock, so the one waiting for it can be told."""

    pid: int
    host: str
    started_at: str  # ISO 8601, UTC
    command: str = ""

    def describe(self) -> str:
        what = f" ({self.command})" if self.command else ""
        return f"pid {self.pid} on {self.host}{what} since {self.started_at}"


@dataclass(frozen=True, slots=True)
class Credential:
    """Desk phone login details, issued once. The password is never printed or logged."""

    site: str
    user_id: str
    username: str
    number: str
    extension: str
    device_type: str
    login_username: str
    password: str = field(repr=False)
    issued_at: str
    event: str  # created | reset | set


@dataclass(frozen=True, slots=True)
class ActionResult:
    """One action carried out, with the login details it issued, if any."""

    action_id: str
    credential: Credential | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What `execute_batch` carried out: `results` in order, and the error that
    stopped it early (None when every action was carried out)."""

    results: tuple[ActionResult, ...]
    error: BackendError | None = None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One line of a backend's own journal: what was done to a site, and how it ended."""

    seq: int
    at: str
    site: str
    action_id: str
    outcome: str  # ok | refused | failed
    detail: str


Recorder = Callable[[Sequence[Credential]], None]
"""Takes new credentials before the platform commits them; on disk when it returns.

A recorder may also have a `retract(credentials)` method: the platform calls it
when it rolls back the credentials of the last call, so the recorder can take
them out again (see `retract`). It may name the credentials of a call that
raised (an interrupt lands at any instant, even just as a call returns): the
recorder takes out what it kept of them and ignores the rest."""


def retract(record: Recorder | None, credentials: Sequence[Credential]) -> None:
    """Tell `record` the platform rolled back what it just recorded, if it listens."""
    take_back = getattr(record, "retract", None)
    if take_back is not None:
        take_back(credentials)


class Backend(Protocol):
    """What onenet needs from a platform."""

    def catalogue(self) -> Catalogue: ...

    def read_state(self, site_id: str) -> SiteState: ...

    def execute(self, site_id: str, action: Action, record: Recorder | None = None) -> ActionResult:
        """Carry out one action atomically, or refuse it and change nothing.

        A credential the action issues is passed to `record` *before* the platform
        commits it; if `record` raises, nothing is committed, and if the platform fails
        to commit after `record` returned, it `retract`s the credential. So a caller
        that writes the credential to disk in `record` can never lose one, wherever
        it is killed, and keeps none the platform rolled back."""
        ...

    def execute_batch(
        self, site_id: str, actions: Sequence[Action], record: Recorder | None = None
    ) -> BatchResult:
        """Carry out `actions` in order, stopping at the first that fails.

        Each action is still atomic and checked on its own; what a batch shares is
        durability: the actions carried out are committed together, so one disk
        sync serves many (group commit). Every credential they issue is passed to
        `record` in one call before that commit. A refusal or transient failure
        keeps the actions before it and ends the batch (`BatchResult.error`); a
        lost reply raises TransientError, as the caller cannot know what happened.
        A backend without transactions carries the actions out one by one, each
        recorded before it is sent. A backend may name a `batch_size`: how many
        actions the applier sends it in one call (see applier.batch_size)."""
        ...

    def reset_login(self, site_id: str, user_id: str, record: Recorder | None = None) -> Credential:
        """New desk phone login details for one user (recorded as for `execute`)."""
        ...

    def set_password(
        self, site_id: str, user_id: str, password: str, record: Recorder | None = None
    ) -> Credential:
        """Set a chosen desk phone password ("User Set Password")."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class SiteLocks(Protocol):
    """A capability: the exclusive apply lock of each site. The sandbox keeps it in
    its own file; a backend without one gets it from a shared store."""

    def lock(self, site_id: str, timeout: float, command: str = "") -> AbstractContextManager[None]:
        """Hold the site's exclusive apply lock; wait up to `timeout`, then LockTimeout.
        `command` names the holder to whoever waits."""
        ...


@runtime_checkable
class Journal(Protocol):
    """A capability: what was done to a site, outcome by outcome, oldest first."""

    def journal(self, site_id: str, limit: int | None = None) -> list[JournalEntry]: ...


@runtime_checkable
class SiteSettings(Protocol):
    """A capability: the site settings (`Site`: name, country, extension length, number
    pool, declared licences, policy, unmanaged) of the site file last applied, kept so
    `onenet import` can give them back. Apply hands them over under the site's lock; a
    platform that cannot store them leaves the capability out, and import names the
    settings an admin copies over from their own file."""

    def keep_site(self, site: Site) -> None:
        """Keep `site` as the settings of site `site.id`, if the site exists."""
        ...

    def kept_site(self, site_id: str) -> Site | None:
        """The settings last kept for the site; None if none were."""
        ...


@runtime_checkable
class SiteAddresses(Protocol):
    """A capability: a platform that can know a site by an id of its own (the site
    file's `site.platform_id`: the BroadWorks group id), while onenet keeps naming the
    site by its `id` (plans, locks, messages, the credentials CSV). A platform whose
    sites are onenet's own (the sandbox) leaves it out."""

    def address_site(self, site_id: str, platform_id: str) -> None:
        """Address site `site_id` as `platform_id` on the platform from now on."""
        ...


@runtime_checkable
class PlatformNames(Protocol):
    """A capability: the site as its platform knows it, the same from every machine
    that reaches that platform (e.g. `ocips://host:2209/ENTERPRISE/GROUP`). A shared
    store keys the site's lock by it and records it in the history; it holds no secret."""

    def platform_name(self, site_id: str) -> str: ...


def platform_name(backend: object, site_id: str) -> str:
    """`backend`'s name for the site, or one made of its kind and the site id."""
    if isinstance(backend, PlatformNames):
        return backend.platform_name(site_id)
    return f"{type(backend).__name__}:{site_id}"


def address_site(backend: object, site_id: str, platform_id: str | None) -> None:
    """Tell a backend that can hear it (`SiteAddresses`) the id the platform knows
    site `site_id` by, when one is given; before the site is read or written."""
    if platform_id and isinstance(backend, SiteAddresses):
        backend.address_site(site_id, platform_id)
