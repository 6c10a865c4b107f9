"""Dedup: a channel is never given the same revision of an alert twice."""

from __future__ import annotations

from monitor.delivery.stages.writing import Candidate, WriteContext


class Dedup:
    """Drops what the channel already has: every revision up to the alert's current one was
    given to it already (sent, or in a row still to be sent)."""

    def run(self, ctx: WriteContext, batch: list[Candidate]) -> list[Candidate]:
        return [c for c in batch if c.since is None or c.since < c.alert.revision]
