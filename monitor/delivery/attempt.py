"""What the sending chain carries: one claimed row's attempt, and the batch it belongs to.

Channels send side by side, so what a batch shares (its report, the rows it has yet to send,
what was tried, which story and channel pairs ended) is kept behind one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from monitor.config import DeliveryConfig
from monitor.delivery.channels.base import Message, Notifier
from monitor.service.leases import new_replica_id
from monitor.service.metrics import Metrics
from monitor.store import Store
from monitor.store.tables import NotificationRow


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    # Rows another replica took over from this one: not sent, or their outcome not written.
    lost: int = 0


@dataclass(slots=True)
class Sender:
    """Who delivers, and for how long a claimed row is theirs (:mod:`monitor.service.leases`).

    ``head_start``: channels start in the order of their oldest row, each once the one before
    it is done, and all that are left once this many seconds have passed: a channel that
    answers at once costs the others nothing, and one that hangs delays them by no more.
    """

    owner: str = field(default_factory=new_replica_id)
    lease: timedelta = timedelta(minutes=5)
    metrics: Metrics | None = None
    should_stop: Callable[[], bool] = lambda: False
    head_start: float = 0.5


@dataclass(slots=True)
class Attempt:
    """One try at one row: the message sent, and, for a failed send, what the channel said."""

    row: NotificationRow
    message: Message | None = None
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None


@dataclass
class SendContext:
    """One claimed batch, shared by the channels sending it."""

    store: Store
    notifiers: Mapping[str, Notifier]
    delivery: DeliveryConfig
    sender: Sender
    token: int
    report: DeliveryReport
    tried: set[str]
    waiting: set[int]  # ids of the batch's rows that have no outcome yet
    ended: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def unsent(self) -> list[int]:
        with self.lock:
            return sorted(self.waiting)

    def settle(self, row: NotificationRow, tried: bool) -> None:
        """The row needs no more of this batch (sent, failed, lost, or waiting its turn)."""
        with self.lock:
            self.waiting.discard(row.id or 0)
            if tried:
                self.tried.add(row.key)

    def count(self, update: Callable[[DeliveryReport], object]) -> None:
        with self.lock:
            update(self.report)
