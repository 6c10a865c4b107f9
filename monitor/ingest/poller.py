"""Polling: which feeds are due, fetching them politely and concurrently, recording their health.

Politeness, as Miniflux and FreshRSS practise it: each feed has its own interval with a little
random jitter (so a thousand feeds added at once do not all fall due in the same second), at
most ``http.per_host`` requests at once to one host, conditional GET and a body hash so an
unchanged feed is neither downloaded twice nor parsed twice, exponential backoff when a feed
fails, and ``Retry-After`` obeyed when a server asks for a pause.

``poll`` yields each feed's outcome as soon as it is ready, with a bounded number in flight, so
the caller can store one feed's articles while the next ones are still downloading and memory
stays flat however many feeds there are.

Parsing is the poller's main cost, and feedparser holds the GIL for all of it: in one process,
eight fetching threads parse one document at a time while the store waits for its turn too.
So a poll of many feeds parses in worker processes, one a core, each thread handing its
document over and waiting for the articles; the outcomes still stream to the single writer.
A few feeds (a quiet cycle, a test) are parsed in the thread, which costs no process start.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import update
from sqlmodel import and_, col, or_, select

from monitor.config import FeedConfig, Settings
from monitor.ingest import health
from monitor.ingest.fetch import FetchCancelled, FetchError, fetch
from monitor.ingest.fulltext import fill_full_text
from monitor.ingest.parse import FeedParseError, ParsedFeed, parse_feed
from monitor.ingest.registry import all_feeds
from monitor.ingest.urls import redact_url
from monitor.models import Article
from monitor.service.leases import serialized
from monitor.service.metrics import Metrics
from monitor.store import Store
from monitor.store.tables import ArticleRow, FeedState, utcnow
from monitor.util import durations
from monitor.util.dates import as_utc

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(hours=24)  # a hostile Retry-After cannot switch a feed off
MIN_INTERVAL = 60  # seconds: the shortest interval the missed-items rule may set
RELAX = 1.25  # a shortened interval grows back by this factor per calm poll
RHYTHM_WEIGHT = 0.3  # weight of the newest observation in the moving average
# Feeds in one poll from which parsing moves to worker processes: a worker's start (~0.3 s of
# imports) is repaid by a few dozen documents parsed beside the writer instead of under its GIL.
PARSE_POOL_MIN = 16


def backoff(interval: timedelta, failures: int, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """The wait after ``failures`` failed polls in a row: doubling, never past ``cap``."""
    return durations.backoff(interval, failures, cap)


@dataclass(slots=True)
class PollOutcome:
    feed: FeedConfig
    articles: list[Article] = field(default_factory=list)
    status: int = 0  # HTTP status; 0 when the fetch failed before one arrived
    error: str = ""  # the poll failed: why
    problem: str = ""  # the poll worked, but the document was ill-formed: why
    title: str = ""
    url: str = ""
    moved_to: str = ""
    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    unchanged: bool = False  # 304, or the same bytes as last time: nothing was parsed
    entries: int = 0  # entries in the document
    retry_after: float | None = None
    full_texts: int = 0  # pages fetched for summary-only entries
    cancelled: bool = False  # cut short by shutdown: not to be recorded as a poll
    retry_items: bool = False  # an entry failed to store: fetch and parse afresh next time
    seconds: float = 0.0  # time to fetch and parse


def _ctx(feed: FeedConfig) -> dict[str, str]:
    """The ``extra`` of a log line about a feed: structured logs carry its name."""
    return {"feed": feed.name}


class Poller:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        client: httpx.Client,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = utcnow,
        metrics: Metrics | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self.rng = rng or random.Random()
        self.clock = clock
        self.metrics = metrics
        self.stopping = stopping or threading.Event()
        self._hosts: dict[str, threading.Semaphore] = {}
        self._hosts_lock = threading.Lock()
        self.parse_workers = os.cpu_count() or 1  # worker processes; 1 parses in the threads
        self._parsers: ProcessPoolExecutor | None = None
        self._parsers_lock = threading.Lock()

    # -- which feeds -----------------------------------------------------------------------

    def feeds(self) -> list[FeedConfig]:
        """Every feed to poll: the config's and those added with ``monitor feeds add``."""
        return all_feeds(self.settings, self.store)

    def states(self) -> dict[str, FeedState]:
        with self.store.session() as session:
            return {s.name: s for s in session.exec(select(FeedState)).all()}

    def due(self, now: datetime | None = None, force: bool = False) -> list[FeedConfig]:
        now = now or self.clock()
        states = self.states()
        due = []
        for feed in self.feeds():
            state = states.get(feed.name)
            next_poll = state.next_poll if state is not None else None
            if force or next_poll is None or as_utc(next_poll) <= now:
                due.append(feed)
        return due

    def interval(self, feed: FeedConfig, state: FeedState | None) -> timedelta:
        """The feed's current interval: learnt (after missed items), else its own, else the
        default."""
        base = feed.interval or self.settings.poll_interval
        learnt = state.interval if state is not None and state.interval else None
        return timedelta(seconds=min(learnt or base, base))

    # -- polling ---------------------------------------------------------------------------

    def poll(self, feeds: list[FeedConfig]) -> Iterator[PollOutcome]:
        """Fetch and parse ``feeds`` concurrently; yield each outcome as it completes."""
        if not feeds:
            return
        states = self.states()
        workers = max(1, min(self.settings.http.concurrency, len(feeds)))
        pooled = self.parse_workers > 1 and len(feeds) >= PARSE_POOL_MIN
        queue = iter(feeds)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll") as pool:
            pending: set[Future[PollOutcome]] = set()

            def submit_next() -> None:
                feed = None if self.stopping.is_set() else next(queue, None)
                if feed is not None:
                    state = states.get(feed.name)
                    pending.add(pool.submit(self._poll_safely, feed, state, pooled))

            for _ in range(workers * 2):
                submit_next()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    pending.discard(future)
                    submit_next()
                    yield future.result()

    def _poll_safely(
        self, feed: FeedConfig, state: FeedState | None, pooled: bool = False
    ) -> PollOutcome:
        started = time.monotonic()
        try:
            outcome = self._poll_one(feed, state, pooled)
        except FetchCancelled:
            outcome = PollOutcome(feed=feed, cancelled=True)
        except Exception as exc:  # a bug on one feed must not stop the others
            log.exception("feed %s: unexpected error while polling", feed.name, extra=_ctx(feed))
            outcome = PollOutcome(feed=feed, error=f"internal error: {type(exc).__name__}: {exc}")
        outcome.seconds = time.monotonic() - started
        return outcome

    def _host(self, url: str):
        """The per-host semaphore for ``url`` (a context manager), or a no-op for files."""
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            return nullcontext()
        with self._hosts_lock:
            if host not in self._hosts:
                self._hosts[host] = threading.Semaphore(self.settings.http.per_host)
            return self._hosts[host]

    def _poll_one(
        self, feed: FeedConfig, state: FeedState | None, pooled: bool = False
    ) -> PollOutcome:
        outcome = PollOutcome(feed=feed)
        http = self.settings.http
        target = state.url if state and state.url and feed.url else (feed.url or "")
        try:
            with self._host(target):
                if self.stopping.is_set():  # waited for the host while a stop came
                    raise FetchCancelled("shutting down: not fetched")
                result = fetch(
                    feed,
                    self.client,
                    http.max_bytes,
                    url=target,
                    etag=state.etag if state else "",
                    last_modified=state.last_modified if state else "",
                    deadline=http.deadline,
                    cancel=self.stopping,
                )
        except FetchError as exc:
            outcome.error, outcome.status = str(exc), exc.status
            outcome.retry_after = exc.retry_after
            log.warning("feed %s: %s", feed.name, str(exc), extra=_ctx(feed))
            return outcome
        outcome.status, outcome.url, outcome.moved_to = result.status, result.url, result.moved_to
        lower = {k.lower(): v for k, v in result.headers.items()}
        outcome.etag = lower.get("etag", "")
        outcome.last_modified = lower.get("last-modified", "")
        if result.status == 304:
            outcome.unchanged = True
            return outcome
        outcome.body_hash = hashlib.sha256(result.body).hexdigest()
        if state is not None and state.body_hash == outcome.body_hash:
            outcome.unchanged = True  # no validators, but the same bytes: nothing to parse
            return outcome
        try:
            parsed = self._parse(pooled, result.body, result.url, result.headers, feed)
        except FeedParseError as exc:
            outcome.error = str(exc)
            log.warning("feed %s: %s", feed.name, str(exc), extra=_ctx(feed))
            return outcome
        if parsed.problem and not parsed.articles:
            outcome.error = f"ill-formed feed with no readable entry: {parsed.problem}"
            log.warning("feed %s: %s", feed.name, outcome.error, extra=_ctx(feed))
            return outcome
        if parsed.problem:
            outcome.problem = f"ill-formed but readable: {parsed.problem}"
            log.info("feed %s is %s", feed.name, outcome.problem, extra=_ctx(feed))
        outcome.articles, outcome.title, outcome.entries = (
            parsed.articles,
            parsed.title,
            parsed.entries,
        )
        if feed.full_text and feed.url:
            outcome.full_texts = self._fill_full_texts(feed, outcome.articles)
        return outcome

    def _parse(
        self, pooled: bool, body: bytes, url: str, headers: dict[str, str], feed: FeedConfig
    ) -> ParsedFeed:
        """Parse in this thread, or in a worker process (see the module's docstring)."""
        args = (body, url, dict(headers), feed.name, feed.source)
        if not pooled or self.parse_workers <= 1:
            return parse_feed(*args)
        parsers = self._parser_pool()
        try:
            # Bounded like a fetch: a worker stuck on one document must not hold this poll,
            # and with it the cycle, for ever.
            return parsers.submit(parse_feed, *args).result(timeout=self.settings.http.deadline)
        except (BrokenProcessPool, FuturesTimeout) as exc:
            # A worker died (killed, out of memory, a document that crashes the parser, or a
            # host program that cannot start one: a script without a __main__ guard) or hung.
            # This poll fails and is retried; from now on this poller parses in its threads.
            with self._parsers_lock:
                first = self.parse_workers > 1
                self.parse_workers = 1
                if self._parsers is parsers:
                    self._parsers = None
            _stop_pool(parsers)
            if first:
                log.warning("a parser process ended unexpectedly; parsing in threads from now on")
            why = "took too long" if isinstance(exc, FuturesTimeout) else "ended"
            raise FeedParseError(f"the parser process {why} while parsing this document") from None

    def _parser_pool(self) -> ProcessPoolExecutor:
        with self._parsers_lock:
            if self._parsers is None:
                # spawn, not fork: this process runs threads, which a fork would copy mid-step.
                self._parsers = ProcessPoolExecutor(
                    self.parse_workers, mp_context=multiprocessing.get_context("spawn")
                )
            return self._parsers

    def close(self) -> None:
        """Stop the parser processes, if any were started."""
        with self._parsers_lock:
            parsers, self._parsers = self._parsers, None
        if parsers is not None:
            parsers.shutdown(wait=True, cancel_futures=True)

    def _fill_full_texts(self, feed: FeedConfig, articles: list[Article]) -> int:
        """Fetch the pages of new summary-only entries (known ones were done before)."""
        wanted = [a for a in articles if a.summary_only and a.url.startswith(("http:", "https:"))]
        if not wanted:
            return 0
        known = self._known(feed.name, wanted)
        filled = 0
        http = self.settings.http
        for article in wanted:
            if article.external_id in known or article.canonical_url in known:
                continue
            with self._host(article.url):
                filled += fill_full_text(article, self.client, http.max_bytes, http.deadline)
        return filled

    def _known(self, feed_name: str, articles: list[Article]) -> set[str]:
        """External ids (of this feed) and canonical URLs among ``articles`` already stored."""
        known: set[str] = set()
        with self.store.session() as session:
            for start in range(0, len(articles), 400):
                chunk = articles[start : start + 400]
                ids = [a.external_id for a in chunk if a.external_id]
                urls = [a.canonical_url for a in chunk if a.canonical_url]
                same_feed = and_(ArticleRow.feed == feed_name, col(ArticleRow.external_id).in_(ids))
                rows = session.exec(
                    select(ArticleRow.external_id, ArticleRow.canonical_url).where(
                        or_(same_feed, col(ArticleRow.canonical_url).in_(urls))
                    )
                ).all()
                for external_id, canonical in rows:
                    known.update(v for v in (external_id, canonical) if v)
        return known

    # -- after a poll ----------------------------------------------------------------------

    def record(self, outcome: PollOutcome, new_items: int, owner: str | None = None) -> bool:
        """Write the feed's health, its learnt interval and its next poll time after one poll.

        With ``owner`` (the replica that claimed the feed) the write is fenced: it happens
        only while that replica still holds the feed's lease. If another replica took the
        feed over meanwhile, this poll's record is abandoned (returns False): the other
        replica's poll is the one that counts, and its articles are deduplicated anyway.
        """
        feed = outcome.feed
        now = self.clock()
        with self.store.session() as session:
            state = session.exec(select(FeedState).where(FeedState.name == feed.name)).first()
            columns = [c.name for c in FeedState.__table__.columns]
            before: dict[str, object] = {}
            if state is None:
                state = FeedState(name=feed.name, url=feed.location)
            else:
                session.expunge(state)  # changed below, written by the fenced update
                before = {name: getattr(state, name) for name in columns}
            state.last_polled = now
            state.first_polled = state.first_polled or now
            if outcome.error:
                self._record_failure(state, outcome, now)
            else:
                self._record_success(state, outcome, new_items, now)
            state.lease_owner, state.lease_until = "", None  # the poll is done: let go
            if state.id is None:
                session.add(state)
                kept = True
            else:
                # Only what changed: a 30-column update costs more to build than to run.
                values = {
                    name: getattr(state, name)
                    for name in columns
                    if getattr(state, name) != before[name]
                }
                values.setdefault("lease_owner", "")  # never empty: the fenced row is written
                fence = [FeedState.id == state.id]
                if owner is not None:
                    fence.append(FeedState.lease_owner == owner)
                kept = (
                    session.execute(update(FeedState).where(*fence).values(**values)).rowcount == 1
                )
            session.commit()
        if self.metrics is not None:
            self.metrics.polls.labels(feed.name).inc()
            self.metrics.poll_seconds.labels(feed.name).observe(outcome.seconds)
            if outcome.error:
                self.metrics.poll_errors.labels(feed.name).inc()
            else:
                self.metrics.last_success.labels(feed.name).set(now.timestamp())
        if not kept:
            log.warning(
                "feed %s: another replica took the feed over while this one polled it; this "
                "poll's record is dropped",
                feed.name,
                extra=_ctx(feed),
            )
            if self.metrics is not None:
                self.metrics.leases_lost.labels("feed").inc()
        return kept

    def defer(self, feed: FeedConfig, error: str) -> None:
        """The last resort when recording a poll raised: count a failure, say why and push the
        next poll one interval out, in one plain update, so the feed neither spins at every
        tick nor goes unseen."""
        now = self.clock()
        with self.store.session() as session:
            session.execute(
                update(FeedState)
                .where(col(FeedState.name) == feed.name)
                .values(
                    consecutive_failures=FeedState.consecutive_failures + 1,
                    last_error=error[:1000],
                    last_polled=now,
                    next_poll=now + self.interval(feed, None),
                    lease_owner="",
                    lease_until=None,
                )
            )
            session.commit()

    def _record_failure(self, state: FeedState, outcome: PollOutcome, now: datetime) -> None:
        interval = self.interval(outcome.feed, state)
        state.consecutive_failures += 1
        state.last_error = outcome.error
        wait_for = backoff(interval, state.consecutive_failures)
        if outcome.retry_after is not None:
            asked = min(timedelta(seconds=outcome.retry_after), MAX_RETRY_AFTER)
            wait_for = max(wait_for, asked)
            log.info(
                "feed %s: server asked to retry after %s",
                outcome.feed.name,
                asked,
                extra=_ctx(outcome.feed),
            )
        state.next_poll = now + wait_for

    def _record_success(
        self, state: FeedState, outcome: PollOutcome, new_items: int, now: datetime
    ) -> None:
        feed = outcome.feed
        polled_before = state.last_success is not None
        recovered = state.consecutive_failures > 0
        if recovered:
            log.info(
                "feed %s recovered after %d failed poll(s)", feed.name, state.consecutive_failures
            )
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
                extra=_ctx(feed),
            )
            state.url = outcome.moved_to
        if new_items:
            self._learn_rhythm(state, outcome.articles, now)
        base = feed.interval or self.settings.poll_interval
        current = int(self.interval(feed, state).total_seconds())
        count = len(outcome.articles)
        if polled_before and count >= 2 and new_items >= count:
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
        state.next_poll = now + self._jittered(timedelta(seconds=current))

    def _learn_rhythm(self, state: FeedState, articles: list[Article], now: datetime) -> None:
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

    def _jittered(self, interval: timedelta) -> timedelta:
        share = self.settings.http.jitter
        return interval * (1 + self.rng.uniform(-share, share)) if share else interval

    # -- health ----------------------------------------------------------------------------

    def check_health(self, now: datetime | None = None) -> list[str]:
        """Open a health alert for each feed newly in trouble, close the episodes of feeds that
        recovered; returns the ids of alerts to send."""
        now = now or self.clock()
        feeds = {f.name: f for f in self.feeds()}
        raised: list[str] = []
        with self.store.session() as session:
            serialized(session)  # replicas must not open the same feed's alert twice
            for state in session.exec(select(FeedState)).all():
                feed = feeds.get(state.name)
                if feed is None:
                    continue
                problem = health.health_problem(state, self.interval(feed, state), now)
                if problem and not state.health_alert:
                    log.warning(
                        "feed %s needs attention: %s",
                        state.name,
                        problem,
                        extra={"feed": state.name},
                    )
                    raised.append(health.open_alert(session, state, problem, now))
                    session.add(state)
                elif not problem and state.health_alert:
                    log.info("feed %s is healthy again", state.name, extra={"feed": state.name})
                    state.health_alert = ""
                    session.add(state)
            session.commit()
        return raised


def _stop_pool(parsers: ProcessPoolExecutor) -> None:
    """Stop a pool that cannot be trusted, its stuck workers included (shutdown alone waits
    for nothing, but leaves a hung worker running)."""
    processes = list((getattr(parsers, "_processes", None) or {}).values())
    parsers.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
