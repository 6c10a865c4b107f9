"""Hold: renew the claim just before a send, and send nothing the claim no longer holds.

The lease is renewed on the row about to go and on every row of the batch still waiting, so a
batch slower than the lease does not lose its tail to another replica. A row that is no longer
held was taken over by a replica that thought this one dead: it is theirs to send.
"""

from __future__ import annotations

import logging

from monitor.delivery.attempt import Attempt, DeliveryReport, SendContext
from monitor.store.notifications import renew_notifications
from monitor.store.tables import NotificationRow, utcnow

# The outbox's lines keep the logger name operators filter on.
log = logging.getLogger("monitor.delivery.outbox")


class Hold:
    def run(self, ctx: SendContext, batch: list[Attempt]) -> list[Attempt]:
        sender = ctx.sender
        with ctx.store.session() as session:
            held = renew_notifications(
                session, ctx.unsent(), sender.owner, ctx.token, utcnow() + sender.lease
            )
        going = []
        for attempt in batch:
            if attempt.row.id in held:
                going.append(attempt)
            else:
                ctx.settle(attempt.row, tried=True)
                lost(ctx, attempt.row, "is not sent: another replica took it over first")
        return going


def _one_lost(report: DeliveryReport) -> None:
    report.lost += 1


def lost(ctx: SendContext, row: NotificationRow, what: str) -> None:
    """Say that a lease was lost, since it means a stall as long as the lease (or a clock off
    by that much), and, for a send already made, that the channel may get it twice."""
    sender = ctx.sender

    ctx.count(_one_lost)
    log.warning(
        "notification %s to %s: lease lost to another replica, %s",
        row.key,
        row.channel,
        what,
        extra={"channel": row.channel, "notification": row.key, "replica": sender.owner},
    )
    if sender.metrics is not None:
        sender.metrics.leases_lost.labels("send").inc()
