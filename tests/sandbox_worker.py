"""Subprocess workers for sandbox tests: hold a lock, or write actions until killed.

python -m tests.sandbox_worker lock DB SECONDS [LEASE]
python -m tests.sandbox_worker lock-and-write DB SECONDS   (holds a write transaction too)
python -m tests.sandbox_worker write DB SECONDS            (a write transaction, no lock)
python -m tests.sandbox_worker churn DB SEED
"""

from __future__ import annotations

import random
import sys
import time

from onenet_apply.backends.base import BackendError
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.plan import Kind
from tests.sandbox_kit import SITE, act, user_values


def hold_lock(path: str, seconds: float, lease: float = 60.0, write: bool = False) -> None:
    backend = SandboxBackend(path)
    with backend.lock(SITE, timeout=30, command="sandbox_worker lock", lease=lease):
        if write:
            backend.db.execute("BEGIN IMMEDIATE")  # no one else may write meanwhile
        print("locked", flush=True)
        time.sleep(seconds)
        if write:
            backend.db.execute("COMMIT")
    print("released", flush=True)


def hold_write(path: str, seconds: float) -> None:
    backend = SandboxBackend(path)
    backend.db.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)  # the file, not the site
    time.sleep(seconds)
    backend.db.execute("COMMIT")


def churn(path: str, seed: int) -> None:
    """Random, mostly valid actions forever: creates, activations, moves, deletes."""
    rng = random.Random(seed)
    backend = SandboxBackend(path)
    backend.configure(SITE)
    step = 0
    while True:
        step += 1
        state = backend.read_state(SITE)
        active = [u for u, c in state.users.items() if c.lifecycle == "activated"]
        choice = rng.random()
        try:
            if choice < 0.35 or len(state.users) < 5:
                n = rng.randrange(100)
                backend.execute(
                    SITE,
                    act(
                        Kind.CREATE,
                        "user",
                        f"u{seed}-{step}",
                        **user_values(n, username=f"user.{seed}.{step}"),
                    ),
                )
            elif choice < 0.5:
                backend.activate(SITE)
            elif choice < 0.6 and active:
                uid = rng.choice(active)
                backend.execute(
                    SITE,
                    act(
                        Kind.UPDATE_CONFIG,
                        "user",
                        uid,
                        number=f"+4930123456{rng.randrange(100):02d}",
                        extension=f"56{rng.randrange(100):02d}",
                    ),
                )
            elif choice < 0.75:
                members = rng.sample(list(state.users), k=min(3, len(state.users)))
                group = f"p{rng.randrange(3)}"
                kind = Kind.SET_MEMBERS if group in state.call_pickup_groups else Kind.CREATE
                extra = {} if kind is Kind.SET_MEMBERS else {"name": group}
                backend.execute(
                    SITE, act(kind, "call_pickup_group", group, members=members, **extra)
                )
            elif choice < 0.85 and active:
                backend.reset_login(SITE, rng.choice(active))
            elif active:
                backend.execute(SITE, act(Kind.DELETE, "user", rng.choice(active)))
        except BackendError:
            pass
        if step % 10 == 0:
            print(step, flush=True)


if __name__ == "__main__":
    mode, db = sys.argv[1], sys.argv[2]
    if mode == "lock":
        hold_lock(db, *map(float, sys.argv[3:5]))
    elif mode == "lock-and-write":
        hold_lock(db, float(sys.argv[3]), write=True)
    elif mode == "write":
        hold_write(db, float(sys.argv[3]))
    else:
        churn(db, int(sys.argv[3]))
