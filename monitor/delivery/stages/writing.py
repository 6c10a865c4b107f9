"""What the writing chain carries: one alert's revisions on their way to one channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.config import RouteConfig
from monitor.delivery.states import OutboxState
from monitor.models import AlertView
from monitor.store.notifications import SentLedger
from monitor.store.tables import SilenceRow


@dataclass(slots=True)
class WriteContext:
    now: datetime
    silences: list[SilenceRow]


@dataclass(slots=True)
class Candidate:
    """A message an alert's change may call for on one channel of one route.

    ``since`` is the last revision the channel has been given (None: never), so the message
    reports the revisions after it; ``kind``, ``wait`` and ``state`` are what the stages decide.
    """

    alert: AlertView
    route: RouteConfig
    channel: str
    ledger: SentLedger
    since: int | None = None
    kind: str = "new"
    wait: float = 0.0
    state: str = OutboxState.PENDING.value

    @classmethod
    def of(
        cls, alert: AlertView, route: RouteConfig, channel: str, ledger: SentLedger
    ) -> Candidate:
        return cls(alert, route, channel, ledger, since=ledger.given.get(alert.id))
