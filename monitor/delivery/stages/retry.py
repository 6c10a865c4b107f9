"""Retry: a failed send waits and goes again, with backoff, until the row's deadline.

The wait doubles from ``delivery.backoff`` up to ``delivery.max_backoff``, unless the channel
said when (Slack's Retry-After). A send no retry can help (a rejected payload, a missing
channel), or one whose next try would come after the deadline, fails for good.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from monitor.config import DeliveryConfig
from monitor.delivery.attempt import Attempt, SendContext
from monitor.delivery.states import OutboxState, advance
from monitor.store.tables import utcnow
from monitor.util.dates import as_utc
from monitor.util.durations import backoff

# The outbox's lines keep the logger name operators filter on.
log = logging.getLogger("monitor.delivery.outbox")


class Retry:
    def run(self, ctx: SendContext, batch: list[Attempt]) -> list[Attempt]:
        for attempt in batch:
            if attempt.error:
                schedule(attempt, ctx.delivery)
        return batch


def delay(attempt: Attempt, delivery: DeliveryConfig) -> float:
    """Seconds until the next try: the channel's word, else the backoff for this attempt."""
    return attempt.retry_after or (
        backoff(
            timedelta(seconds=delivery.backoff),
            attempt.row.attempts - 1,
            timedelta(seconds=delivery.max_backoff),
        ).total_seconds()
    )


def schedule(attempt: Attempt, delivery: DeliveryConfig) -> None:
    """The row after a failed attempt: pending with its next try, or failed for good."""
    row = attempt.row
    row.last_error = attempt.error
    wait = delay(attempt, delivery)
    retry_at = utcnow() + timedelta(seconds=wait)
    if attempt.retryable and (row.deadline is None or retry_at <= as_utc(row.deadline)):
        row.state = advance(row.state, OutboxState.PENDING)
        row.next_attempt = retry_at
        log.warning(
            "notification %s to %s failed (attempt %d), retry in %.0fs: %s",
            row.key,
            row.channel,
            row.attempts,
            wait,
            attempt.error,
            extra={"channel": row.channel, "notification": row.key},
        )
        return
    row.state = advance(row.state, OutboxState.FAILED)
    log.error(
        "notification %s to %s failed for good after %d attempt(s): %s",
        row.key,
        row.channel,
        row.attempts,
        attempt.error,
        extra={"channel": row.channel, "notification": row.key},
    )
