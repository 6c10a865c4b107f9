"""The cycle's poll stage: claim the due feeds, poll them, store each feed's articles.

Each feed is finished on its own (stored, then its poll recorded): whatever one feed raises is
logged and counted as that feed's failure, its next poll is pushed out, and the other feeds go
on. Feeds claimed but not reached (a stop, a fault in the poller) are given back at the end.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from monitor.detect.pipeline import IngestResult
from monitor.ingest.outcome import PollOutcome
from monitor.service import replicas
from monitor.service.leases import LeaseKeeper
from monitor.store.feeds import claim_feeds, ensure_feed_rows, release_feeds, renew_feeds
from monitor.util.failpoints import failpoint

if TYPE_CHECKING:
    from monitor.service.cycle import CycleReport, Service

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
    try:
        with keeper:
            for outcome in service.poller.poll([candidates[n] for n in claim.names]):
                if outcome.cancelled:
                    continue
                report.feeds += 1
                keeper.finished(outcome.feed.name)
                if _finish_feed(service, outcome, report):
                    unrecorded.discard(outcome.feed.name)
    finally:
        if unrecorded:  # cut short: the next cycle (or replica) polls them afresh
            release_feeds(service.store, sorted(unrecorded), service.replica)


def _finish_feed(service: Service, outcome: PollOutcome, report: CycleReport) -> bool:
    """Store one feed's articles and record its poll; False if the poll could not be
    recorded (the feed's lease is then given back, and the next cycle polls it again)."""
    feed = outcome.feed.name
    try:
        result = _store_articles(service, outcome)
        report.ingest.merge(result)
        report.failed_feeds += bool(outcome.error)
        service.poller.record(outcome, result.new, owner=service.replica)
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
    """Ingest one feed's articles; a store failure becomes that feed's error, not the
    cycle's, and an article that failed alone is noted as the feed's problem."""
    try:
        result = service.pipeline.ingest(outcome.articles)
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
