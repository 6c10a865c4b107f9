"""Polling: which feeds are due, fetching them concurrently, and recording their health."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlmodel import select

from monitor.config import FeedConfig, Settings
from monitor.feeds.fetch import FetchError, fetch
from monitor.feeds.parse import parse_feed
from monitor.models import Article
from monitor.store import Store
from monitor.store.tables import FeedState, utcnow

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)


@dataclass(slots=True)
class PollOutcome:
    feed: FeedConfig
    articles: list[Article] = field(default_factory=list)
    status: int = 0
    error: str = ""
    problem: str = ""
    title: str = ""
    url: str = ""
    moved_to: str = ""
    etag: str = ""
    last_modified: str = ""


class Poller:
    def __init__(self, settings: Settings, store: Store, client: httpx.Client) -> None:
        self.settings = settings
        self.store = store
        self.client = client

    def states(self) -> dict[str, FeedState]:
        with self.store.session() as session:
            return {s.name: s for s in session.exec(select(FeedState)).all()}

    def due(self, now: datetime | None = None, force: bool = False) -> list[FeedConfig]:
        now = now or utcnow()
        states = self.states()
        return [
            feed
            for feed in self.settings.feeds
            if force
            or feed.name not in states
            or states[feed.name].next_poll is None
            or states[feed.name].next_poll <= now
        ]

    def poll(self, feeds: list[FeedConfig]) -> list[PollOutcome]:
        if not feeds:
            return []
        states = self.states()
        workers = max(1, min(self.settings.http.concurrency, len(feeds)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll") as pool:
            return list(pool.map(lambda f: self._poll_one(f, states.get(f.name)), feeds))

    def _poll_one(self, feed: FeedConfig, state: FeedState | None) -> PollOutcome:
        outcome = PollOutcome(feed=feed)
        try:
            result = fetch(
                feed,
                self.client,
                self.settings.http.max_bytes,
                url=state.url if state and state.url and feed.url else "",
                etag=state.etag if state else "",
                last_modified=state.last_modified if state else "",
            )
        except FetchError as exc:
            outcome.error = str(exc)
            log.warning("feed %s: %s", feed.name, exc)
            return outcome
        outcome.status, outcome.url, outcome.moved_to = result.status, result.url, result.moved_to
        outcome.etag = result.headers.get("etag", "")
        outcome.last_modified = result.headers.get("last-modified", "")
        if result.status == 304:
            return outcome
        try:
            parsed = parse_feed(result.body, result.url, result.headers, feed.name, feed.source)
        except Exception as exc:  # feedparser raises on some hostile documents
            outcome.error = f"unparseable feed: {type(exc).__name__}: {exc}"
            log.warning("feed %s: %s", feed.name, outcome.error)
            return outcome
        if parsed.problem and not parsed.articles:
            outcome.error = f"not a feed: {parsed.problem}"
            log.warning("feed %s: %s", feed.name, outcome.error)
            return outcome
        if parsed.problem:
            outcome.problem = parsed.problem
            log.info("feed %s is ill-formed but readable: %s", feed.name, parsed.problem)
        outcome.articles, outcome.title = parsed.articles, parsed.title
        return outcome

    def record(self, outcome: PollOutcome, new_items: int) -> None:
        """Write the feed's health and its next poll time after one poll."""
        feed = outcome.feed
        now = utcnow()
        interval = timedelta(seconds=feed.interval or self.settings.poll_interval)
        with self.store.session() as session:
            state = session.exec(select(FeedState).where(FeedState.name == feed.name)).first()
            if state is None:
                state = FeedState(name=feed.name, url=feed.location)
            state.last_polled = now
            if outcome.error:
                state.consecutive_failures += 1
                state.last_error = outcome.error
                state.next_poll = now + min(interval * 2**state.consecutive_failures, MAX_BACKOFF)
            else:
                state.consecutive_failures = 0
                state.last_error = outcome.problem
                state.last_success = now
                state.items_seen += new_items
                state.next_poll = now + interval
                if outcome.status == 200:
                    state.etag, state.last_modified = outcome.etag, outcome.last_modified
                if outcome.title:
                    state.title = outcome.title
                if outcome.moved_to:
                    log.info("feed %s moved permanently to %s", feed.name, outcome.moved_to)
                    state.url = outcome.moved_to
            session.add(state)
            session.commit()
