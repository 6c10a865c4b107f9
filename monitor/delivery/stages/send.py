"""Send: one attempt through the row's channel; whatever the channel raises stays with it.

The message is read from the store as the row describes it. A channel raises
:class:`NotifyError` saying whether a retry can help; anything else it raises is a bug in that
channel, logged with its traceback and retried, and never stops the other channels.
"""

from __future__ import annotations

import logging

from monitor.delivery.attempt import Attempt, SendContext
from monitor.delivery.channels.base import NotifyError
from monitor.delivery.message import build_message
from monitor.delivery.states import OutboxState, advance
from monitor.store.tables import utcnow
from monitor.util.failpoints import failpoint

# The outbox's lines keep the logger name operators filter on.
log = logging.getLogger("monitor.delivery.outbox")


class Send:
    def run(self, ctx: SendContext, batch: list[Attempt]) -> list[Attempt]:
        for attempt in batch:
            _attempt(ctx, attempt)
        return batch


def _attempt(ctx: SendContext, attempt: Attempt) -> None:
    row = attempt.row
    ctx.settle(row, tried=True)
    with ctx.store.session() as session:
        attempt.message = message = build_message(session, row)
    notifier = ctx.notifiers.get(row.channel)
    row.attempts += 1
    try:
        if not message.alerts:
            raise NotifyError(f"the alerts of notification {row.key} are gone", False)
        if notifier is None:
            raise NotifyError(f"no channel named '{row.channel}' is configured", False)
        notifier.send(message)
    except NotifyError as exc:
        attempt.error, attempt.retryable, attempt.retry_after = (
            str(exc),
            exc.retryable,
            exc.retry_after,
        )
    except Exception as exc:  # a channel bug must not stop the others
        log.exception(
            "channel %s raised on notification %s",
            row.channel,
            row.key,
            extra={"channel": row.channel, "notification": row.key},
        )
        attempt.error, attempt.retryable = f"{type(exc).__name__}: {exc}", True
    else:
        failpoint("after-send")
        row.state = advance(row.state, OutboxState.SENT)
        row.sent, row.last_error = utcnow(), ""
        log.info(
            "notification %s sent to %s",
            row.key,
            row.channel,
            extra={"channel": row.channel, "notification": row.key, "story": row.story_id},
        )
