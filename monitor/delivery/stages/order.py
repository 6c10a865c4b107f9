"""Order: per story and channel, messages go out in the order they were written.

The claim already leaves out a row behind a pending one; this is the check again just before
the send, since on PostgreSQL a row's id is drawn before the row commits and an earlier row can
become visible after a later one was claimed. A row that must wait is given back untried, and
goes once the earlier one has an outcome.
"""

from __future__ import annotations

import logging

from monitor.delivery.attempt import Attempt, SendContext
from monitor.store.notifications import follows_pending, release_notifications

# The outbox's lines keep the logger name operators filter on.
log = logging.getLogger("monitor.delivery.outbox")


class Order:
    def run(self, ctx: SendContext, batch: list[Attempt]) -> list[Attempt]:
        going = []
        for attempt in batch:
            row = attempt.row
            with ctx.store.session() as session:
                waits = follows_pending(session, row)
            if not waits:
                going.append(attempt)
                continue
            log.info(
                "notification %s waits: an earlier message of its story to %s is pending",
                row.key,
                row.channel,
                extra={"channel": row.channel, "notification": row.key},
            )
            release_notifications(ctx.store, [row.key], ctx.sender.owner, ctx.token)
            ctx.settle(row, tried=False)
        return going
