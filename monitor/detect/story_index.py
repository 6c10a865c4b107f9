"""The story index: the live stories a new report might join, and how telling each word is.

It holds the event matcher's two pieces of state (:mod:`monitor.detect.events`): the index of
stories within the window (:class:`~monitor.detect.events.index.EventIndex`) and the word
counts (:class:`~monitor.detect.events.rarity.Rarity`). Both live in memory and are filled from
the store: at first use, then before each batch with whatever other processes (or a previous
life of this one) stored since, so a restart or a second replica sees every story the first
opened. A batch's changes are staged while its transaction is open: later articles of the
batch already see them, only a commit makes them stay, and a rollback leaves no trace (a
rolled-back article's row id is reused by the next insert).

An analyst's merge or split (``monitor stories merge/split``) changes stories without a new
article, so the newest article seen cannot tell an index of it: each edit is numbered in the
store, and an index re-reads the stories of every edit after the last it applied. A story
merged into another is left in the index with no words and no vessels, which no report can
reach, so a report of its event joins the story it was merged into.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from monitor.detect.events.index import EventIndex, StoryEntry
from monitor.detect.events.rarity import Rarity
from monitor.store.story_edits import edits_after, latest_edit
from monitor.store.story_vectors import (
    StoryVector,
    latest_vector_article,
    recent_story_vectors,
    story_vectors_after,
    story_vectors_of,
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
        self._last_edit = 0  # the newest analyst's edit of stories this index has applied
        self._loaded = False
        self._saved_last = 0
        self._staging = False
        self.written_seq = 0  # the word-count batch the open transaction wrote

    def __len__(self) -> int:
        """Articles the indexed stories hold."""
        return len(self.events)

    def sync(self, session: Session) -> None:
        """Take in the stories and word counts other processes stored since the last look."""
        rows, batches, seq = term_counts_since(session, self.rarity.seq)
        self.rarity.update(rows, seq, batches)
        if not self._loaded:
            self._last_edit = latest_edit(session)  # what is read next has them applied
            stories = recent_story_vectors(session, self.events.horizon)
            latest = latest_vector_article(session)
            self._loaded = True
        else:
            stories = story_vectors_after(session, self._last_article)
            latest = max((s.last_article for s in stories), default=0)
        for stored in stories:
            self.events.put(entry_of(stored))
        self._last_article = max(self._last_article, latest)
        self._apply_edits(session)

    def _apply_edits(self, session: Session) -> None:
        """Re-read the stories that analysts' edits changed since the last look: a story
        left with no vector (merged into another) becomes unreachable."""
        edits = edits_after(session, self._last_edit)
        if not edits:
            return
        touched = list(dict.fromkeys(s for e in edits for s in (e.story_id, e.other_story) if s))
        stored = story_vectors_of(session, touched)
        for story_id in touched:
            if story_id in stored:
                self.events.put(entry_of(stored[story_id]))
            elif (old := self.events.get(story_id)) is not None:
                self.events.put(StoryEntry(story_id, {}, frozenset(), old.first, old.last, 0))
        self._last_edit = edits[-1].seq

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
