"""After a cycle that stored many articles, the long-lived heap is set aside from the
garbage collector.

The story index holds every live story's centroid: tens of thousands of dicts after a cold
poll of a thousand feeds. Each of Python's full collections walks every tracked object, so
every one that later cycles' allocations set off walks the whole index again, though none of
it is garbage: on ``bench/poll.py --feeds 1000`` the warm pass (all 304s) took 4.9 s with
them and 3.0 s without. So after a cycle (or a run of cycles) that stored at least
``SETTLE_AFTER`` articles, one full collection clears what is garbage and ``gc.freeze()``
moves the survivors to the permanent generation, which collections skip. Each settle first
unfreezes, so a reference cycle among frozen objects that became garbage since is collected
then; objects without cycles are freed by reference counting whenever they are dropped.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)
SETTLE_AFTER = 1_000  # articles stored since the last settle; a quiet tick stores none


class Heap:
    """Counts the articles stored since the heap was last settled, and settles it."""

    def __init__(self, after: int = SETTLE_AFTER) -> None:
        self.after = after
        self.stored = 0

    def settle(self, stored: int) -> float | None:
        """Note ``stored`` more articles; settle the heap once enough were. Returns the
        seconds the settle took, or None if it was not due."""
        self.stored += stored
        if self.stored < self.after:
            return None
        self.stored = 0
        began = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        took = time.perf_counter() - began
        log.debug("heap settled in %.2f s: %d objects set aside", took, gc.get_freeze_count())
        return took
