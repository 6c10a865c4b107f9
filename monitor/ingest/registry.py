"""Which feeds exist: those in the config file plus those added with ``monitor feeds add/import``.

Added feeds are rows of the ``feeds`` table (:class:`FeedState`, ``origin`` "added" or "opml"),
the same row that keeps each feed's health, so one row says everything about a feed. A config
feed's row has ``origin`` "config" and is polled only while the config lists it.
"""

from __future__ import annotations

import logging

from monitor.config import FeedConfig, Settings
from monitor.store import Store
from monitor.store import feeds as feed_store
from monitor.store.feeds import FeedExistsError
from monitor.store.tables import FeedState

log = logging.getLogger(__name__)


def stored_feed(state: FeedState) -> FeedConfig | None:
    """The feed an added row describes, or None if the row no longer holds a valid one."""
    try:
        return FeedConfig(
            name=state.name, url=state.url, source=state.source, full_text=state.full_text
        )
    except ValueError as exc:
        log.warning("stored feed %s is not valid and is skipped: %s", state.name, exc)
        return None


def all_feeds(settings: Settings, store: Store) -> list[FeedConfig]:
    """Config feeds first, then stored ones whose name and address the config does not use."""
    feeds = list(settings.feeds)
    names = {f.name for f in feeds}
    urls = {f.url for f in feeds if f.url}
    for row in feed_store.added_rows(store):
        if row.name in names or row.url in urls:
            continue
        feed = stored_feed(row)
        if feed is not None:
            feeds.append(feed)
    return feeds


def add_feed(
    settings: Settings, store: Store, feed: FeedConfig, origin: str = "added"
) -> FeedState:
    """Store a new feed; :class:`FeedExistsError` if its name or address is taken."""
    for known in settings.feeds:
        if known.name == feed.name:
            raise FeedExistsError(f"the config already has a feed named {feed.name!r}")
        if feed.url and known.url == feed.url:
            raise FeedExistsError(f"the config already has {feed.url} (as {known.name!r})")
    return feed_store.add_row(store, feed, origin)


def remove_feed(store: Store, name: str) -> bool:
    """Forget a stored feed (its articles and alerts stay); False if there was none."""
    return feed_store.remove_added_row(store, name)
