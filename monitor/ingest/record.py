"""After a poll: what it taught about the feed (health, validators, address, next poll), written
to the feed's row while this replica still holds the feed's lease, and counted in the metrics."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel import Session

from monitor.config import FeedConfig, Settings
from monitor.ingest import schedule
from monitor.ingest.outcome import PollOutcome, log_extra
from monitor.ingest.urls import redact_url
from monitor.service.metrics import Metrics
from monitor.store import Store
from monitor.store import feeds as feed_store
from monitor.store.tables import FeedState

# Logged under the poller's name, as before the poller was split: operators filter on it.
log = logging.getLogger("monitor.ingest.poller")


def record_polls(
    store: Store,
    settings: Settings,
    polls: Sequence[tuple[PollOutcome, int]],
    *,
    now: datetime,
    rng: random.Random,
    metrics: Metrics | None = None,
    owner: str | None = None,
) -> list[bool]:
    """Write each feed's health, its learnt interval and its next poll time after a poll
    (``polls``: each outcome with the number of new items it stored), in one transaction.

    With ``owner`` (the replica that claimed the feeds) each write is fenced: it happens only
    while that replica still holds the feed's lease. If another replica took a feed over
    meanwhile, that poll's record is abandoned (False in its place): the other replica's poll
    is the one that counts, and its articles are deduplicated anyway.
    """
    changes = _changes(settings, polls, now, rng)
    kept = feed_store.write_polls(store, changes, owner)
    count_polls([outcome for outcome, _new in polls], kept, now, metrics)
    return kept


def record_polls_in(
    session: Session,
    settings: Settings,
    polls: Sequence[tuple[PollOutcome, int]],
    *,
    now: datetime,
    rng: random.Random,
    owner: str | None = None,
) -> list[bool]:
    """:func:`record_polls` in the caller's transaction (the one that stores the poll's
    articles); nothing is counted until the caller's commit holds (:func:`count_polls`)."""
    return feed_store.write_polls_in(session, _changes(settings, polls, now, rng), owner)


def _changes(
    settings: Settings,
    polls: Sequence[tuple[PollOutcome, int]],
    now: datetime,
    rng: random.Random,
) -> list[feed_store.PollChange]:
    def learn(outcome: PollOutcome, new_items: int) -> Callable[[FeedState], None]:
        def change(state: FeedState) -> None:
            state.last_polled = now
            state.first_polled = state.first_polled or now
            if outcome.error:
                _failed(state, outcome, now, settings)
            else:
                _succeeded(state, outcome, new_items, now, settings, rng)

        return change

    return [(o.feed.name, o.feed.location, learn(o, new)) for o, new in polls]


def count_polls(
    outcomes: Sequence[PollOutcome], kept: Sequence[bool], now: datetime, metrics: Metrics | None
) -> None:
    """Count recorded polls in the metrics, and warn of those another replica took over."""
    for outcome, written in zip(outcomes, kept, strict=True):
        _count(outcome, written, now, metrics)


def _count(outcome: PollOutcome, kept: bool, now: datetime, metrics: Metrics | None) -> None:
    feed = outcome.feed
    if metrics is not None:
        metrics.polls.labels(feed.name).inc()
        metrics.poll_seconds.labels(feed.name).observe(outcome.seconds)
        if outcome.error:
            metrics.poll_errors.labels(feed.name).inc()
        else:
            metrics.last_success.labels(feed.name).set(now.timestamp())
    if not kept:
        log.warning(
            "feed %s: another replica took the feed over while this one polled it; this "
            "poll's record is dropped",
            feed.name,
            extra=log_extra(feed),
        )
        if metrics is not None:
            metrics.leases_lost.labels("feed").inc()


def defer_poll(
    store: Store, settings: Settings, feed: FeedConfig, error: str, now: datetime
) -> None:
    """The last resort when recording a poll raised: count a failure, say why and push the
    next poll one interval out, in one plain update, so the feed neither spins at every
    tick nor goes unseen."""
    next_poll = now + schedule.interval(feed, None, settings)
    feed_store.defer_poll(store, feed.name, error, now, next_poll)


def _failed(state: FeedState, outcome: PollOutcome, now: datetime, settings: Settings) -> None:
    state.consecutive_failures += 1
    state.last_error = outcome.error
    schedule.after_failure(state, outcome.feed, outcome.retry_after, now, settings)


def _succeeded(
    state: FeedState,
    outcome: PollOutcome,
    new_items: int,
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> None:
    feed = outcome.feed
    first = state.last_success is None
    recovered = state.consecutive_failures > 0
    if recovered:
        log.info("feed %s recovered after %d failed poll(s)", feed.name, state.consecutive_failures)
    state.consecutive_failures = 0
    if not outcome.unchanged or recovered:  # an unchanged document keeps its problems
        state.last_error = outcome.problem
    state.last_success = now
    state.items_seen += new_items
    if outcome.etag or outcome.last_modified or outcome.status == 200:
        state.etag, state.last_modified = outcome.etag, outcome.last_modified
    if outcome.body_hash:
        state.body_hash = outcome.body_hash
    if outcome.retry_items:  # validators or the same bytes would skip the failed entry
        state.etag, state.last_modified, state.body_hash = "", "", ""
    if outcome.title:
        state.title = outcome.title
    if outcome.moved_to:
        log.info(
            "feed %s moved permanently to %s",
            feed.name,
            redact_url(outcome.moved_to),
            extra=log_extra(feed),
        )
        state.url = outcome.moved_to
    schedule.after_success(state, feed, outcome.articles, new_items, first, now, settings, rng)
