"""Mute: a silenced alert's messages are written as ``silenced``, kept but never sent."""

from __future__ import annotations

import logging

from monitor.alerting.silences import silenced_by
from monitor.delivery.stages.writing import Candidate, WriteContext
from monitor.delivery.states import OutboxState

# The outbox's lines keep the logger name operators filter on.
log = logging.getLogger("monitor.delivery.outbox")


class Mute:
    def run(self, ctx: WriteContext, batch: list[Candidate]) -> list[Candidate]:
        for candidate in batch:
            alert = candidate.alert
            silence = silenced_by(ctx.silences, alert)
            if silence is not None:
                candidate.state = OutboxState.SILENCED.value
                log.info(
                    "alert %s silenced by silence %s (%s)", alert.id, silence.id, silence.reason
                )
        return batch
