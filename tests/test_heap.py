"""The heap is set aside from the garbage collector after a big ingest, and what became
garbage among the objects set aside is still collected at the next settle."""

from __future__ import annotations

import gc
import weakref

from monitor.service.heap import Heap


class Node:
    """A reference cycle's member: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_the_heap_is_settled_only_after_enough_articles_and_its_cycles_still_go():
    heap = Heap(after=100)
    try:
        assert heap.settle(60) is None and gc.get_freeze_count() == 0
        kept = Node()
        assert heap.settle(40) is not None  # 100 since the last settle: due
        assert gc.get_freeze_count() > 0 and heap.stored == 0
        assert heap.settle(99) is None  # counted afresh
        # A cycle that was set aside, then dropped: a full collection alone cannot free it
        # (frozen objects are skipped); the next settle unfreezes first, and it goes.
        gone = weakref.ref(kept)
        del kept
        gc.collect()
        assert gone() is not None
        assert heap.settle(1) is not None
        assert gone() is None
    finally:
        gc.unfreeze()
