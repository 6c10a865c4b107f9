"""Polling: fetching the due feeds concurrently and politely, each parsed and its pages filled.

``poll`` yields each feed's outcome as soon as it is ready, with a bounded number in flight, so
the caller can store one feed's articles while the next ones are still downloading and memory
stays flat however many feeds there are. Conditional GET and a body hash mean an unchanged feed
is neither downloaded twice nor parsed twice; at most ``http.per_host`` requests go to one host
at once (:mod:`~monitor.ingest.hosts`).

The rest of a poll's life has a module each: when a feed is due and how its interval moves
(:mod:`~monitor.ingest.schedule`), parsing in worker processes (:mod:`~monitor.ingest.workers`),
full text of summary-only entries (:mod:`~monitor.ingest.fulltext`), writing the outcome to the
feed's row (:mod:`~monitor.ingest.record`) and feed-health alerts (:mod:`~monitor.ingest.health`).
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

import httpx
from sqlmodel import Session

from monitor.config import FeedConfig, Settings
from monitor.detect.rules import Matcher
from monitor.ingest import health, schedule
from monitor.ingest.fetch import FetchCancelled, FetchError, fetch
from monitor.ingest.fulltext import fill_full_texts, summary_only
from monitor.ingest.hosts import HostLimits
from monitor.ingest.outcome import PollOutcome, log_extra
from monitor.ingest.parse import FeedParseError, ParsedFeed
from monitor.ingest.record import count_polls, defer_poll, record_polls, record_polls_in
from monitor.ingest.registry import all_feeds
from monitor.ingest.workers import ParserPool
from monitor.models import Article
from monitor.service.metrics import Metrics
from monitor.store import Store
from monitor.store import feeds as feed_store
from monitor.store.articles import known_articles
from monitor.store.claims import serialized
from monitor.store.tables import FeedState, utcnow

log = logging.getLogger(__name__)


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
        self.hosts = HostLimits(settings.http.per_host)
        self.parsers = ParserPool(read_all=settings.story_scope == "all")

    @property
    def parse_workers(self) -> int:
        """Worker processes that parse a large poll; 1 parses in the polling threads."""
        return self.parsers.workers

    @parse_workers.setter
    def parse_workers(self, workers: int) -> None:
        self.parsers.workers = workers

    def use_rules(self, matcher: Matcher | None) -> None:
        """Have the parser processes match articles with these rules, beside the writer."""
        self.parsers.use_rules(matcher)

    # -- which feeds -----------------------------------------------------------------------

    def feeds(self) -> list[FeedConfig]:
        """Every feed to poll: the config's and those added with ``monitor feeds add``."""
        return all_feeds(self.settings, self.store)

    def states(self) -> dict[str, FeedState]:
        return feed_store.states_by_name(self.store)

    def due(self, now: datetime | None = None, force: bool = False) -> list[FeedConfig]:
        return schedule.due(self.feeds(), self.states(), now or self.clock(), force)

    def interval(self, feed: FeedConfig, state: FeedState | None) -> timedelta:
        return schedule.interval(feed, state, self.settings)

    # -- polling ---------------------------------------------------------------------------

    def poll(self, feeds: list[FeedConfig]) -> Iterator[PollOutcome]:
        """Fetch and parse ``feeds`` concurrently; yield each outcome as it completes."""
        if not feeds:
            return
        states = self.states()
        workers = max(1, min(self.settings.http.concurrency, len(feeds)))
        pooled = self.parsers.worth_it(len(feeds))
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
            log.exception(
                "feed %s: unexpected error while polling", feed.name, extra=log_extra(feed)
            )
            outcome = PollOutcome(feed=feed, error=f"internal error: {type(exc).__name__}: {exc}")
        outcome.seconds = time.monotonic() - started
        return outcome

    def _poll_one(
        self, feed: FeedConfig, state: FeedState | None, pooled: bool = False
    ) -> PollOutcome:
        outcome = PollOutcome(feed=feed)
        http = self.settings.http
        target = state.url if state and state.url and feed.url else (feed.url or "")
        try:
            with self.hosts.slot(target):
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
            log.warning("feed %s: %s", feed.name, str(exc), extra=log_extra(feed))
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
            log.warning("feed %s: %s", feed.name, str(exc), extra=log_extra(feed))
            return outcome
        if parsed.problem and not parsed.articles:
            outcome.error = f"ill-formed feed with no readable entry: {parsed.problem}"
            log.warning("feed %s: %s", feed.name, outcome.error, extra=log_extra(feed))
            return outcome
        if parsed.problem:
            outcome.problem = f"ill-formed but readable: {parsed.problem}"
            log.info("feed %s is %s", feed.name, outcome.problem, extra=log_extra(feed))
        outcome.articles, outcome.title, outcome.entries = (
            parsed.articles,
            parsed.title,
            parsed.entries,
        )
        if feed.full_text and feed.url:
            outcome.full_texts = self._fill_full_texts(feed, outcome.articles)
        wordless = [a for a in outcome.articles if not (a.title or a.text)]
        if wordless:  # bare links whose page gave no text either: nothing to match or cite
            outcome.articles = [a for a in outcome.articles if a.title or a.text]
            note = f"{len(wordless)} link-only entry/entries whose page gave no text, skipped"
            outcome.problem = f"{outcome.problem}; {note}" if outcome.problem else note
        return outcome

    def _parse(
        self, pooled: bool, body: bytes, url: str, headers: dict[str, str], feed: FeedConfig
    ) -> ParsedFeed:
        """Parse in this thread, or in a worker process (see :mod:`monitor.ingest.workers`)."""
        args = (body, url, dict(headers), feed.name, feed.source)
        return self.parsers.parse(args, timeout=self.settings.http.deadline, pooled=pooled)

    def close(self) -> None:
        """Stop the parser processes, if any were started."""
        self.parsers.close()

    def _fill_full_texts(self, feed: FeedConfig, articles: list[Article]) -> int:
        """Fetch the pages of new summary-only entries: a known one had its page fetched when
        it was new, or is a duplicate the pipeline will drop."""
        wanted = summary_only(articles)
        if not wanted:
            return 0
        with self.store.session() as session:
            known = known_articles(session, wanted)
        fresh = [article for article in wanted if not known.knows(article)]
        return fill_full_texts(fresh, self.client, self.settings.http, self.hosts)

    # -- after a poll ----------------------------------------------------------------------

    def record(self, outcome: PollOutcome, new_items: int, owner: str | None = None) -> bool:
        """Write what the poll taught to the feed's row, fenced by ``owner``'s lease; False if
        another replica took the feed over (see :func:`monitor.ingest.record.record_polls`)."""
        return self.record_all([(outcome, new_items)], owner)[0]

    def record_all(
        self, polls: Sequence[tuple[PollOutcome, int]], owner: str | None = None
    ) -> list[bool]:
        """Record several polls in one transaction (see :meth:`record`)."""
        return record_polls(
            self.store,
            self.settings,
            polls,
            now=self.clock(),
            rng=self.rng,
            metrics=self.metrics,
            owner=owner,
        )

    def record_in(
        self, session: Session, outcome: PollOutcome, new_items: int, owner: str | None = None
    ) -> bool:
        """:meth:`record` in the caller's transaction, which stores the poll's articles; the
        caller calls :meth:`counted` once that commits."""
        polls = [(outcome, new_items)]
        return record_polls_in(
            session, self.settings, polls, now=self.clock(), rng=self.rng, owner=owner
        )[0]

    def counted(self, outcome: PollOutcome, kept: bool) -> None:
        """Count a poll that :meth:`record_in` recorded, now that it is committed."""
        count_polls([outcome], [kept], self.clock(), self.metrics)

    def defer(self, feed: FeedConfig, error: str) -> None:
        """Count a failure and push the next poll out, when recording a poll raised."""
        defer_poll(self.store, self.settings, feed, error, self.clock())

    # -- health ----------------------------------------------------------------------------

    def check_health(self, now: datetime | None = None) -> list[str]:
        """Open a health alert for each feed newly in trouble, close the episodes of feeds that
        recovered; returns the ids of alerts to send."""
        now = now or self.clock()
        feeds = {f.name: f for f in self.feeds()}
        raised: list[str] = []
        with self.store.session() as session:
            serialized(session)  # replicas must not open the same feed's alert twice
            # One transaction: a feed that raises here rolls back the whole check, which the
            # cycle logs as a failed stage and retries at the next tick; no alert is half open.
            for state in feed_store.all_states(session):
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
                    raised.append(health.open_alert(session, state, problem, now, self.metrics))
                elif not problem and state.health_alert:
                    log.info("feed %s is healthy again", state.name, extra={"feed": state.name})
                    feed_store.mark_health(session, state, "")
            session.commit()
        return raised
