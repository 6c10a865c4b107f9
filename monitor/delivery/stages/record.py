"""Record: write a send's outcome, fenced by the claim, and count it.

The write applies only while the claim that read the row (its owner and token) still holds
it. A replica that stalled past its lease and lost the row to another writes nothing, and
says so: the other replica owns the outcome now, and the channel may have the message twice.
"""

from __future__ import annotations

from functools import partial

from monitor.delivery.attempt import Attempt, DeliveryReport, SendContext
from monitor.delivery.stages.hold import lost
from monitor.delivery.states import OutboxState
from monitor.store.notifications import record_outcome
from monitor.util.dates import as_utc


class Record:
    def run(self, ctx: SendContext, batch: list[Attempt]) -> list[Attempt]:
        kept = []
        for attempt in batch:
            row = attempt.row
            if not record_outcome(ctx.store, row, ctx.sender.owner, ctx.token):
                outcome = "sent" if row.state == "sent" else f"{row.state}: {row.last_error}"
                lost(ctx, row, f"its outcome ({outcome}) is not recorded")
                continue
            kept.append(attempt)
            ctx.count(partial(_tally, state=row.state))
            if row.state != OutboxState.PENDING:
                with ctx.lock:
                    ctx.ended.add((row.story_id, row.channel))
            _observe(ctx, attempt)
        return kept


def _tally(report: DeliveryReport, state: str) -> None:
    report.sent += state == OutboxState.SENT
    report.failed += state == OutboxState.FAILED
    report.retrying += state == OutboxState.PENDING


def _observe(ctx: SendContext, attempt: Attempt) -> None:
    metrics, row = ctx.sender.metrics, attempt.row
    if metrics is None:
        return
    outcome = "retrying" if row.state == OutboxState.PENDING else row.state  # sent, failed
    metrics.deliveries.labels(row.channel, outcome).inc()
    if row.sent is not None:
        waited = (as_utc(row.sent) - as_utc(row.created)).total_seconds()
        metrics.delivery_latency.labels(row.channel).observe(max(waited, 0.0))
