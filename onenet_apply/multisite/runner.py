"""Run one function over many sites in worker processes, results in input order.

Planning is CPU-bound Python, so threads would wait on each other (the GIL):
each site is planned in a worker process that opens its own backend connection.
At most a few results per worker wait in the parent at any time, so a run over
hundreds of sites never holds them all; one job (or one site) runs in this process.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")
AHEAD_PER_JOB = 2  # sites submitted ahead of the one the parent waits for, per worker


def default_jobs() -> int:
    return os.cpu_count() or 1


def ordered_map(function: Callable[[T], R], items: Iterable[T], jobs: int) -> Iterator[R]:
    """`function` of each item, in the order of `items`, with up to `jobs` at once."""
    pending = list(items)
    if jobs <= 1 or len(pending) <= 1:
        yield from map(function, pending)
        return
    from concurrent.futures import ProcessPoolExecutor  # loads multiprocessing: only for jobs

    window: deque[Future[R]] = deque()
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(pending)), initializer=_leave_ctrl_c)
    try:
        queue = iter(pending)
        for item in queue:
            window.append(pool.submit(function, item))
            if len(window) >= jobs * AHEAD_PER_JOB:
                break
        while window:
            result = window.popleft().result()
            following = next(queue, None)
            if following is not None:
                window.append(pool.submit(function, following))
            yield result
    finally:  # an interrupted run leaves no site planning in the background
        pool.shutdown(wait=True, cancel_futures=True)


def _leave_ctrl_c() -> None:
    """In each worker: Ctrl-C (sent to the whole process group by a terminal) is the
    parent's to handle; a worker would print a traceback of its own. The parent then
    waits for the sites the workers are on (at most `jobs`), never killing one: a
    worker killed while it sends its result leaves half a message in the pool's pipe,
    and the pool waits for the rest forever."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
