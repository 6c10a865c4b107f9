"""When each feed is polled next: its interval, jitter, backoff, Retry-After and learnt rhythm.

Politeness, as Miniflux and FreshRSS practise it: each feed has its own interval with a little
random jitter (so a thousand feeds added at once do not all fall due in the same second),
exponential backoff when a feed fails, and ``Retry-After`` obeyed when a server asks for a
pause. A feed whose every entry was new at a poll may have dropped some before it was polled:
its interval is halved, and grows back while polls stay calm.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from monitor.config import FeedConfig, Settings
from monitor.ingest.outcome import log_extra
from monitor.models import Article
from monitor.store.tables import FeedState
from monitor.util import durations
from monitor.util.dates import as_utc

# Logged under the poller's name, as before the poller was split: operators filter on it.
log = logging.getLogger("monitor.ingest.poller")
MAX_BACKOFF = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(hours=24)  # a hostile Retry-After cannot switch a feed off
MIN_INTERVAL = 60  # seconds: the shortest interval the missed-items rule may set
RELAX = 1.25  # a shortened interval grows back by this factor per calm poll
RHYTHM_WEIGHT = 0.3  # weight of the newest observation in the moving average


def backoff(interval: timedelta, failures: int, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """The wait after ``failures`` failed polls in a row: doubling, never past ``cap``."""
    return durations.backoff(interval, failures, cap)


def interval(feed: FeedConfig, state: FeedState | None, settings: Settings) -> timedelta:
    """The feed's current interval: learnt (after missed items), else its own, else the
    default."""
    base = feed.interval or settings.poll_interval
    learnt = state.interval if state is not None and state.interval else None
    return timedelta(seconds=min(learnt or base, base))


def due(
    feeds: Iterable[FeedConfig],
    states: Mapping[str, FeedState],
    now: datetime,
    force: bool = False,
) -> list[FeedConfig]:
    """Those of ``feeds`` never polled or whose next poll has come (all of them if ``force``)."""
    found = []
    for feed in feeds:
        state = states.get(feed.name)
        next_poll = state.next_poll if state is not None else None
        if force or next_poll is None or as_utc(next_poll) <= now:
            found.append(feed)
    return found


def after_failure(
    state: FeedState,
    feed: FeedConfig,
    retry_after: float | None,
    now: datetime,
    settings: Settings,
) -> None:
    """Set the next poll of a feed that failed ``state.consecutive_failures`` times in a row:
    backoff, or later if the server asked for a longer pause (up to a day)."""
    wait_for = backoff(interval(feed, state, settings), state.consecutive_failures)
    if retry_after is not None:
        asked = min(timedelta(seconds=retry_after), MAX_RETRY_AFTER)
        wait_for = max(wait_for, asked)
        log.info("feed %s: server asked to retry after %s", feed.name, asked, extra=log_extra(feed))
    state.next_poll = now + wait_for


def after_success(
    state: FeedState,
    feed: FeedConfig,
    articles: list[Article],
    new_items: int,
    first: bool,
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> None:
    """Learn from a poll that worked (``new_items`` of ``articles`` were new) and set the next.
    The ``first`` poll that worked is all new by nature: it shortens nothing."""
    if new_items:
        learn_rhythm(state, articles, now)
    base = feed.interval or settings.poll_interval
    current = int(interval(feed, state, settings).total_seconds())
    count = len(articles)
    if not first and count >= 2 and new_items >= count:
        shorter = max(min(base, MIN_INTERVAL), current // 2)
        state.overflows += 1
        state.interval = shorter
        log.warning(
            "feed %s: all %d entries are new since the last poll, so some may have been "
            "missed; polling it every %ds instead of %ds",
            feed.name,
            count,
            shorter,
            current,
        )
        current = shorter
    elif state.interval and new_items * 2 < max(count, 1):
        current = min(base, int(current * RELAX) + 1)
        state.interval = current if current < base else None
    state.next_poll = now + jittered(timedelta(seconds=current), settings.http.jitter, rng)


def learn_rhythm(state: FeedState, articles: list[Article], now: datetime) -> None:
    """The usual gap between items: from the entries' dates when the feed gives them, else
    from the time between polls that brought something new."""
    dates = sorted(a.published for a in articles if a.published is not None)
    observed = 0.0
    if len(dates) >= 3:
        observed = (dates[-1] - dates[0]).total_seconds() / (len(dates) - 1)
    elif state.last_new is not None:
        observed = (now - as_utc(state.last_new)).total_seconds()
    if observed > 0:
        state.rhythm = (
            observed
            if not state.rhythm
            else (1 - RHYTHM_WEIGHT) * state.rhythm + RHYTHM_WEIGHT * observed
        )
    state.last_new = now


def jittered(interval: timedelta, share: float, rng: random.Random) -> timedelta:
    """``interval`` moved by up to ``share`` of itself either way, so feeds spread out."""
    return interval * (1 + rng.uniform(-share, share)) if share else interval
