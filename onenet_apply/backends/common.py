"""What every backend shares: one named method per action, and the batch loop.

A backend implements the platform's operations (`create_user`, `set_members`,
...) as methods taking its own per-call context and an `Action`; `dispatch`
finds the method for each action, and `execute` is a batch of one. Two ways to
carry a batch out:

- `BackendBase`: the backend brings its own `execute_batch` (the sandbox commits
  a batch in one transaction, each action in a savepoint);
- `SequentialBackend`: for platforms without transactions (OCI-P). Each action
  is sent alone, and a credential it carries is recorded *before* it is sent
  (`Call.issue`), so a crash between the two can only leave a recorded
  credential the platform never took, never a working one nobody has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from onenet_apply.backends.base import (
    ActionResult,
    BatchResult,
    ConflictError,
    Credential,
    NotFoundError,
    Recorder,
    RefusedError,
    TransientError,
    retract,
)
from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.plan import Action, Kind
from onenet_apply.model.state import SiteState
from onenet_apply.model.vocabulary import SECTION_OF

Context = TypeVar("Context")

USER_OPERATIONS = {
    Kind.CREATE: "create_user",
    Kind.UPDATE_PROFILE: "update_profile",
    Kind.UPDATE_CONFIG: "update_config",
    Kind.DEACTIVATE: "deactivate",
    Kind.REACTIVATE: "reactivate",
    Kind.DELETE: "delete_user",
}
GROUP_OPERATIONS = {
    Kind.CREATE: "create_group",
    Kind.UPDATE: "update_group",
    Kind.SET_MEMBERS: "set_members",
    Kind.DELETE: "delete_group",
}
# what a backend may refuse with, having changed nothing: the batch ends there
NOTHING_CHANGED = (RefusedError, ConflictError, NotFoundError)


def operation_name(action: Action) -> str:
    """The backend method that carries `action` out (ConflictError if none does)."""
    target_type = action.target.type
    if target_type not in SECTION_OF:
        raise ConflictError(f"unknown target type {target_type!r}")
    operations = USER_OPERATIONS if target_type == "user" else GROUP_OPERATIONS
    name = operations.get(action.kind)
    if name is None:
        what = "users" if target_type == "user" else "groups"
        raise ConflictError(f"{what} have no {action.kind} action")
    return name


class BackendBase(ABC, Generic[Context]):
    """The Backend protocol's shared half; a subclass brings the platform's operations,
    its state, login details and `execute_batch`."""

    @abstractmethod
    def catalogue(self) -> Catalogue: ...

    @abstractmethod
    def read_state(self, site_id: str) -> SiteState: ...

    @abstractmethod
    def execute_batch(
        self, site_id: str, actions: Sequence[Action], record: Recorder | None = None
    ) -> BatchResult: ...

    @abstractmethod
    def reset_login(
        self, site_id: str, user_id: str, record: Recorder | None = None
    ) -> Credential: ...

    @abstractmethod
    def set_password(
        self, site_id: str, user_id: str, password: str, record: Recorder | None = None
    ) -> Credential: ...

    def close(self) -> None:
        """Let go of connections and files (nothing to do by default)."""

    def execute(self, site_id: str, action: Action, record: Recorder | None = None) -> ActionResult:
        """One action: a batch of one whose error is raised."""
        outcome = self.execute_batch(site_id, (action,), record)
        if outcome.error is not None:
            raise outcome.error
        return outcome.results[0]

    def dispatch(self, context: Context, action: Action) -> Credential | None:
        """Carry `action` out through the operation named for its kind."""
        operation = getattr(self, operation_name(action))
        result: Credential | None = operation(context, action)
        return result

    # -- the platform's operations: the login details an operation issues, if any
    @abstractmethod
    def create_user(self, context: Context, action: Action) -> Credential | None: ...

    @abstractmethod
    def update_profile(self, context: Context, action: Action) -> None: ...

    @abstractmethod
    def update_config(self, context: Context, action: Action) -> Credential | None: ...

    @abstractmethod
    def deactivate(self, context: Context, action: Action) -> None: ...

    @abstractmethod
    def reactivate(self, context: Context, action: Action) -> None: ...

    @abstractmethod
    def delete_user(self, context: Context, action: Action) -> None: ...

    @abstractmethod
    def create_group(self, context: Context, action: Action) -> None: ...

    @abstractmethod
    def update_group(self, context: Context, action: Action) -> None: ...

    @abstractmethod
    def set_members(self, context: Context, action: Action) -> None: ...

    @abstractmethod
    def delete_group(self, context: Context, action: Action) -> None: ...


@dataclass(slots=True)
class Call:
    """One action sent to a platform without transactions: the site it is for, and
    the credentials it carries, each recorded before the request is sent."""

    site_id: str
    record: Recorder | None
    issued: list[Credential] = field(default_factory=list)

    def issue(self, credential: Credential) -> Credential:
        """Record `credential` (on disk when this returns); only then send it."""
        if self.record is not None:
            self.record([credential])
        self.issued.append(credential)
        return credential


class SequentialBackend(BackendBase[Call]):
    """A backend whose platform carries out one request at a time, with no
    transactions: a batch is its actions in order, stopping at the first that fails."""

    def execute_batch(
        self, site_id: str, actions: Sequence[Action], record: Recorder | None = None
    ) -> BatchResult:
        """A refusal (nothing changed) ends the batch and takes back the credentials
        recorded for it; a TransientError, whose action's outcome is unknown, ends it
        leaving them recorded (the platform may have taken them). Either way the
        actions before it were carried out, and the result says so."""
        done: list[ActionResult] = []
        for action in actions:
            call = Call(site_id, record)
            try:
                credential = self.dispatch(call, action)
            except NOTHING_CHANGED as e:
                retract(record, call.issued)
                return BatchResult(tuple(done), e)
            except TransientError as e:
                return BatchResult(tuple(done), e)
            done.append(ActionResult(action.id, credential))
        return BatchResult(tuple(done))

