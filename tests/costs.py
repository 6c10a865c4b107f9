"""What a call costs: its seconds and its peak of traced memory, each measured on a run of its own
(tracemalloc slows allocation-heavy code such as feedparser several times over, which is no fact
about the code)."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def measured(call: Callable[[], T]) -> tuple[T | Exception, float, int]:
    """What ``call`` returned (or the exception it raised), its seconds and its peak bytes."""
    started = time.monotonic()
    try:
        result: T | Exception = call()
    except Exception as exc:
        result = exc
    seconds = time.monotonic() - started
    tracemalloc.start()
    try:
        call()
    except Exception:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, seconds, peak
