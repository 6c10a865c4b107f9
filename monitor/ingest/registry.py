"""Which feeds exist: those in the config file plus those added with ``monitor feeds add/import``.

Added feeds are rows of the ``feeds`` table (:class:`FeedState`, ``origin`` "added" or "opml"),
the same row that keeps each feed's health, so one row says everything about a feed. A config
feed's row has ``origin`` "config" and is polled only while the config lists it.
"""

from __future__ import annotations

import logging

from sqlmodel import select

from monitor.config import FeedConfig, Settings
from monitor.errors import FeedError
from monitor.store import Store
from monitor.store.tables import FeedState, utcnow

log = logging.getLogger(__name__)


class FeedExistsError(FeedError, ValueError):
    """A feed with that name or address is already configured or stored."""


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
    with store.session() as session:
        rows = session.exec(
            select(FeedState).where(FeedState.origin != "config").order_by(FeedState.id)
        ).all()
    for row in rows:
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
    with store.session() as session:
        same = session.exec(
            select(FeedState).where((FeedState.name == feed.name) | (FeedState.url == feed.url))
        ).first()
        if same is not None and same.origin != "config":
            raise FeedExistsError(f"a feed named {same.name!r} already has {same.url}")
        # A config feed's row whose feed left the config: the new feed takes it over (and its
        # health history, if it is the same address).
        state = same or FeedState(name=feed.name)
        if state.url != (feed.url or ""):
            state.etag = state.last_modified = state.body_hash = ""
        state.name, state.url, state.source = feed.name, feed.url or "", feed.source
        state.full_text, state.origin, state.added = feed.full_text, origin, utcnow()
        session.add(state)
        session.commit()
        return state


def remove_feed(store: Store, name: str) -> bool:
    """Forget a stored feed (its articles and alerts stay); False if there was none."""
    with store.session() as session:
        state = session.exec(
            select(FeedState).where(FeedState.name == name, FeedState.origin != "config")
        ).first()
        if state is None:
            return False
        session.delete(state)
        session.commit()
        return True
