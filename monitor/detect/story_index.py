"""The story index: the live stories a new report might join, and how telling each word is.

It holds the event matcher's two pieces of state (:mod:`monitor.detect.events`): the index of
stories within the window (:class:`~monitor.detect.events.index.EventIndex`) and the word
counts (:class:`~monitor.detect.events.rarity.Rarity`). Both live in memory and are filled from
the store: at first use, then before each batch with whatever other processes (or a previous
life of this one) stored since, so a restart or a second replica sees every story the first
opened. A batch's changes are staged while its transaction is open: later articles of the
batch already see them, only a commit makes them stay, and a rollback leaves no trace (a
rolled-back article's row id is reused by the next insert).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from monitor.detect.events.index import EventIndex, StoryEntry
from monitor.detect.events.rarity import Rarity
from monitor.store.story_vectors import (
    StoryVector,
    latest_vector_article,
    recent_story_vectors,
    story_vectors_after,
)
from monitor.store.term_counts import term_counts_since


def entry_of(stored: StoryVector) -> StoryEntry:
    return StoryEntry(
        stored.story_id,
        dict(stored.centroid),
        frozenset(stored.vessels),
        stored.first_dated,
        stored.last_dated,
        stored.members,
        stored.last_article,
    )


class StoryIndex:
    """Which live stories a new report might join, shared with other replicas via the store."""

    def __init__(self, horizon: timedelta = timedelta(days=29)) -> None:
        self.events = EventIndex(horizon)
        self.rarity = Rarity()
        self._last_article = 0  # the newest article whose story this index has seen
        self._loaded = False
        self._saved_last = 0
        self._staging = False
        self.written_seq = 0  # the word-count batch the open transaction wrote

    def __len__(self) -> int:
        """Articles the indexed stories hold."""
        return len(self.events)

    def sync(self, session: Session) -> None:
        """Take in the stories and word counts other processes stored since the last look."""
        rows, seq = term_counts_since(session, self.rarity.seq)
        self.rarity.update(rows, seq)
        if not self._loaded:
            stories = recent_story_vectors(session, self.events.horizon)
            latest = latest_vector_article(session)
            self._loaded = True
        else:
            stories = story_vectors_after(session, self._last_article)
            latest = max((s.last_article for s in stories), default=0)
        for stored in stories:
            self.events.put(entry_of(stored))
        self._last_article = max(self._last_article, latest)

    def stage(self, entry: StoryEntry) -> None:
        """Index a new or grown story of the open transaction."""
        if not self._staging:
            self._staging = True
            self._saved_last = self._last_article
            self.events.begin()
        self.events.put(entry)
        self._last_article = max(self._last_article, entry.last_article)

    def commit(self) -> None:
        """The transaction committed: what it staged stays."""
        self.events.commit()
        self.rarity.commit(self.written_seq)
        self._staging = False

    def rollback(self) -> None:
        """The transaction rolled back: its articles never existed."""
        self.events.rollback()
        self.rarity.rollback()
        if self._staging:
            self._last_article = self._saved_last
        self._staging = False
