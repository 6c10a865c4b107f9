"""The cycle's poll stage: claim the due feeds, poll them, store each feed's articles.

Each feed's articles are stored as its poll arrives, and the poll is recorded on the feed's row
in the same transaction; polls that stored nothing are recorded in batches (:class:`_Records`).
Whatever one feed raises stays that feed's: a batch of records that raises is recorded again
one feed at a time, a feed whose record still raises is logged, counted and has its next poll
pushed out, and the other feeds go on. Feeds claimed but not reached (a stop, a fault in the
poller) are given back at the end.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlmodel import Session

from monitor.detect.pipeline import IngestResult
from monitor.ingest.outcome import PollOutcome
from monitor.service import replicas
from monitor.service.leases import LeaseKeeper
from monitor.store.feeds import claim_feeds, ensure_feed_rows, release_feeds, renew_feeds
from monitor.util.failpoints import failpoint

if TYPE_CHECKING:
    from monitor.service.cycle import CycleReport, Service

RECORD_BATCH = 50  # polls recorded in one transaction

log = logging.getLogger("monitor.service.cycle")  # operators filter the cycle's lines by it


def poll_due_feeds(service: Service, report: CycleReport, force: bool) -> None:
    """Claim the due feeds, poll them, store what they bring and record each poll."""
    candidates = {f.name: f for f in service.poller.due(force=force)}
    ensure_feed_rows(service.store, [(f.name, f.location) for f in candidates.values()])
    claim = claim_feeds(
        service.store,
        list(candidates),
        service.replica,
        service.clock(),
        service.lease,
        force,
        limit=None if force else _share(service, len(candidates)),
    )
    report.elsewhere = len(candidates) - len(claim.names)
    if claim.names:
        failpoint("after-claim")  # the crash tests: die holding leases
    claim.note_takeover("feed(s)", service.metrics)
    unrecorded = set(claim.names)
    keeper = LeaseKeeper(
        lambda names: renew_feeds(
            service.store, names, service.replica, service.clock() + service.lease
        ),
        claim.names,
        every=service.lease.total_seconds() / 3,
        what="feed(s)",
    )
    records = _Records(service, keeper, unrecorded)
    try:
        with keeper:
            for outcome in service.poller.poll([candidates[n] for n in claim.names]):
                if outcome.cancelled:
                    continue
                report.feeds += 1
                result = _store_articles(service, outcome)
                report.ingest.merge(result)
                report.failed_feeds += bool(outcome.error)
                records.add(outcome, result.new, result.finished)
            records.flush()
    finally:
        if records.pending:  # the poll stopped on an error: keep what was polled
            records.flush()
        if unrecorded:  # cut short: the next cycle (or replica) polls them afresh
            release_feeds(service.store, sorted(unrecorded), service.replica)


@dataclass(slots=True)
class _Records:
    """Polls waiting to be recorded, written together: one transaction for up to
    :data:`RECORD_BATCH` feeds, or whatever a second has brought, rather than one a feed (the
    warm pass of a thousand unchanged feeds is mostly these writes). Only polls that stored
    nothing wait: one that stored articles was recorded with them, or, when its articles took
    more than one transaction, is recorded at once; a feed's lease is kept alive until its poll
    is recorded.
    """

    service: Service
    keeper: LeaseKeeper
    unrecorded: set[str]
    pending: list[tuple[PollOutcome, int]] = field(default_factory=list)
    since: float = 0.0

    def add(self, outcome: PollOutcome, new_items: int, recorded: bool | None = None) -> None:
        """Record a poll, or let it wait; ``recorded``: it was written already, in the
        transaction that stored its articles (False if another replica had taken it over)."""
        if recorded is not None:
            # Done first: the record is committed, so the feed must not be given back even
            # if counting it fails; and a failed count must not stop the other feeds' polls.
            self.keeper.finished(outcome.feed.name)
            self.unrecorded.discard(outcome.feed.name)
            try:
                self.service.poller.counted(outcome, recorded)
            except Exception:
                log.exception("feed %s: counting its poll failed", outcome.feed.name)
            return
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append((outcome, new_items))
        # A poll that stored articles is recorded at once (with what waits), so a stop that
        # abandons the cycle never leaves a feed's articles stored and its poll unrecorded.
        full = len(self.pending) >= RECORD_BATCH or time.monotonic() - self.since > 1.0
        if new_items or full:
            self.flush()

    def flush(self) -> None:
        """Record the pending polls; if the batch raises, each alone, so one feed's broken
        record stays that feed's (see :func:`_record_alone`)."""
        polls, self.pending = self.pending, []
        if not polls:
            return
        try:
            self.service.poller.record_all(polls, owner=self.service.replica)
            recorded = [True] * len(polls)
        except Exception:
            log.warning(
                "recording %d poll(s) together failed; recording each alone",
                len(polls),
                exc_info=True,
            )
            recorded = [_record_alone(self.service, outcome, new) for outcome, new in polls]
        for (outcome, _new), done in zip(polls, recorded, strict=True):
            self.keeper.finished(outcome.feed.name)
            if done:
                self.unrecorded.discard(outcome.feed.name)


def _record_alone(service: Service, outcome: PollOutcome, new_items: int) -> bool:
    """Record one feed's poll; False if it could not be recorded (the feed's lease is then
    given back, and the next cycle polls it again)."""
    feed = outcome.feed.name
    try:
        service.poller.record(outcome, new_items, owner=service.replica)
        return True
    except Exception as exc:
        service.metrics.stage_failures.labels("feed").inc()
        log.exception("feed %s: recording its poll failed", feed, extra={"feed": feed})
        try:  # at least push the next poll out, so a broken record does not spin
            service.poller.defer(outcome.feed, f"internal error: {type(exc).__name__}: {exc}")
            return True
        except Exception:
            log.exception("feed %s: could not defer its next poll", feed, extra={"feed": feed})
            return False


def _share(service: Service, due: int) -> int | None:
    """This replica's part of the feeds due now: an equal share among the running ones.

    Without it, the replica whose tick comes first after feeds fall due takes them all,
    and with ticks a tenth of a second apart one replica did nine polls in ten. What the
    others leave is claimed at the next tick, by whoever comes first.
    """
    if not service._registered or due < 2:
        return None
    live = replicas.running(service.store, service._silent)
    return math.ceil(due / live) if live > 1 else None


def _store_articles(service: Service, outcome: PollOutcome) -> IngestResult:
    """Ingest one feed's articles, and record its poll in the same transaction when one
    stores them all (``result.finished``); a store failure becomes that feed's error, not the
    cycle's, and an article that failed alone is noted as the feed's problem."""

    def record(session: Session, new_items: int) -> bool:
        return service.poller.record_in(session, outcome, new_items, owner=service.replica)

    try:
        result = service.pipeline.ingest(outcome.articles, finish=record)
    except Exception as exc:
        log.exception(
            "feed %s: storing its articles failed",
            outcome.feed.name,
            extra={"feed": outcome.feed.name},
        )
        outcome.error = f"internal error while storing: {type(exc).__name__}: {exc}"
        return IngestResult()
    if result.failed:
        outcome.retry_items = True
    if result.errors:
        failing = f"{len(result.errors)} entry/entries could not be stored: {result.errors[0]}"
        outcome.problem = f"{outcome.problem}; {failing}" if outcome.problem else failing
    return result
