"""The outbox: notifications are rows first and sends second.

``monitor.alerting.notify.enqueue`` writes the rows; :func:`deliver` sends the rows that are
due and records each outcome, retrying with backoff until the row's deadline. A crash between
the two leaves a pending row that the next ``deliver`` sends; the row's key is the idempotency
key a channel can use to drop a second copy.

Each row goes through the sending chain, :data:`SENDING`: hold (renew the claim; a row another
replica took over is not sent) -> order (a row waits while an earlier one of its story and
channel is pending) -> send -> retry (backoff, or failed for good) -> record (the outcome,
fenced by the claim). The rows of one channel go one after another; the channels go side by
side (:mod:`monitor.delivery.fanout`), so a channel that hangs holds up no other.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.config import DeliveryConfig
from monitor.delivery.attempt import Attempt, DeliveryReport, SendContext, Sender
from monitor.delivery.channels.base import Notifier
from monitor.delivery.fanout import fan_out
from monitor.delivery.stages import Chain
from monitor.delivery.stages.hold import Hold
from monitor.delivery.stages.order import Order
from monitor.delivery.stages.record import Record
from monitor.delivery.stages.retry import Retry
from monitor.delivery.stages.send import Send
from monitor.store import Store
from monitor.store.notifications import (
    NotificationClaim,
    claim_notifications,
    claimed_rows,
    release_notifications,
)
from monitor.store.tables import NotificationRow, utcnow

__all__ = ["DeliveryReport", "Sender", "deliver", "SENDING"]

SENDING = Chain[SendContext, Attempt](Hold(), Order(), Send(), Retry(), Record())


def deliver(
    store: Store,
    notifiers: Mapping[str, Notifier],
    delivery: DeliveryConfig | None = None,
    sender: Sender | None = None,
) -> DeliveryReport:
    """Send every due pending notification this replica can claim, oldest first, recording
    each outcome. A row another replica holds is left to it.

    Per story and channel, rows go out in the order they were written (see
    :func:`monitor.store.notifications.claim_notifications`): a row waits while an earlier one is
    pending, even one waiting for its retry, and goes once that one is sent or has failed for good.
    It then goes as written: a follow-up whose first notice failed for good is still a follow-up,
    and reports only its own new sources (the failure is logged and counted). Rows a send let go are
    claimed again at once, so a follow-up does not wait for the next call.
    """
    delivery = delivery or DeliveryConfig()
    sender = sender or Sender()
    report = DeliveryReport()
    tried: set[str] = set()
    only: set[tuple[str, str]] | None = None  # after the first batch: what a send let go
    while not sender.should_stop():
        claim = claim_notifications(
            store, sender.owner, utcnow(), sender.lease, only=only, skip=tried
        )
        claim.note_takeover("send(s)", sender.metrics)
        if not claim.names:
            break
        only = _send_batch(store, notifiers, delivery, sender, claim, report, tried)
        if not only:
            break
    return report


def _send_batch(
    store: Store,
    notifiers: Mapping[str, Notifier],
    delivery: DeliveryConfig,
    sender: Sender,
    claim: NotificationClaim,
    report: DeliveryReport,
    tried: set[str],
) -> set[tuple[str, str]]:
    """Send a claim's rows, each channel's in order; returns the (story, channel) pairs whose
    row ended here (sent, or failed for good), since the rows after those may go now."""
    rows = claimed_rows(store, claim.names)
    ctx = SendContext(
        store, notifiers, delivery, sender, claim.token, report, tried, {r.id or 0 for r in rows}
    )
    lanes: dict[str, list[NotificationRow]] = {}
    for row in rows:  # oldest first, so channels start in the order of their oldest row
        lanes.setdefault(row.channel, []).append(row)

    def give_back(lane: list[NotificationRow]) -> None:
        """Stopping: the rest stay pending for the next start or another replica."""
        release_notifications(store, [r.key for r in lane], sender.owner, claim.token)

    def send_lane(lane: list[NotificationRow]) -> None:
        for n, row in enumerate(lane):
            if sender.should_stop():
                give_back(lane[n:])
                return
            SENDING.run(ctx, [Attempt(row)])

    fan_out(list(lanes.items()), send_lane, sender.head_start, sender.should_stop, give_back)
    return ctx.ended
