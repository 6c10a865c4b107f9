"""Wait and group: which message a change becomes, and how long it waits for company.

A story's first notice waits ``group_wait``, a follow-up ``group_interval``; a digest route
(or digest follow-ups) gathers into one message per ``digest_interval``. While a row waits,
later changes fold into it. With follow-ups off (``updates: none``) a change is recorded as
``skipped``, unless ``repeat_interval`` has passed since the story's last message: it is then
announced again, with every source since that message.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.delivery.stages.writing import Candidate, WriteContext
from monitor.delivery.states import OutboxState

PENDING = OutboxState.PENDING.value


class Group:
    def run(self, ctx: WriteContext, batch: list[Candidate]) -> list[Candidate]:
        for candidate in batch:
            _choose_kind(candidate)
            if candidate.state == PENDING and candidate.since is not None:
                _repeat_or_skip(ctx, candidate)
        return batch


def _choose_kind(candidate: Candidate) -> None:
    route = candidate.route
    candidate.kind, candidate.wait = "new", route.group_wait
    if candidate.since is not None:
        candidate.kind, candidate.wait = "update", route.group_interval
        if route.updates == "digest":
            candidate.kind, candidate.wait = "digest", route.digest_interval
    if route.mode == "digest":
        candidate.kind, candidate.wait = "digest", route.digest_interval


def _repeat_or_skip(ctx: WriteContext, candidate: Candidate) -> None:
    route = candidate.route
    if route.updates != "none":
        return
    alert_id = candidate.alert.id
    previous = candidate.ledger.last_sent.get(alert_id)
    repeat = route.repeat_interval
    if repeat and previous and ctx.now - previous >= timedelta(seconds=repeat):
        candidate.since = candidate.ledger.sent_upto.get(alert_id, candidate.since)
        return
    candidate.state = OutboxState.SKIPPED.value
