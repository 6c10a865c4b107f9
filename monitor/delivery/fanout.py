"""Fan-out: each channel sends from a thread of its own, so a slow one holds up no other.

Channels start in order, each once the one before it has finished, until ``head_start``
seconds have passed; then every channel left starts at once. Channels that answer promptly
therefore send one after the other, as a single thread would; one that hangs (a server that
takes ten seconds to answer) delays the rest by ``head_start`` at most. Within a channel, work
stays in order, on its one thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def fan_out(
    lanes: Sequence[tuple[str, T]],
    work: Callable[[T], None],
    head_start: float,
    should_stop: Callable[[], bool] = lambda: False,
    skipped: Callable[[T], None] = lambda lane: None,
) -> None:
    """Run ``work`` on each ``(name, lane)``, a thread per lane, and wait for every one.

    A lane not yet started when ``should_stop`` turns true is handed to ``skipped`` instead.
    What a lane raises is logged with its name and does not stop the others; the first such
    error is raised again once every lane has finished, so the caller fails as it would have.
    """
    if not lanes:
        return
    deadline = time.monotonic() + head_start
    futures: list[tuple[str, Future[None]]] = []
    with ThreadPoolExecutor(len(lanes), thread_name_prefix="send") as pool:
        for name, lane in lanes:
            if should_stop():
                skipped(lane)
                continue
            future = pool.submit(work, lane)
            futures.append((name, future))
            wait([future], timeout=max(0.0, deadline - time.monotonic()))
    errors = []
    for name, future in futures:
        error = future.exception()
        if error is not None:
            log.error("channel %s: sending stopped on an error", name, exc_info=error)
            errors.append(error)
    if errors:
        raise errors[0]
