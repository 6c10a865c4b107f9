"""Stories: reports of one event from several outlets, grouped so that they alert once.

An article joins the story whose centroid its TF-IDF vector is most similar to, within the
story window, unless they name different vessels; else it starts its own story (the matcher
is :mod:`monitor.detect.events`, the live stories :mod:`monitor.detect.story_index`). Each
article's vector and why it joined (similarity, shared words) are stored with it, for analysts.

Stories are assigned a transaction's batch at a time: they are collected in a
:class:`StoryBatch` and written together at its end, and a later article of the batch already
joins a story an earlier one started, exactly as if each had been committed alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from monitor.detect.events.index import StoryEntry
from monitor.detect.events.join import StoryPolicy, best_story, read_report
from monitor.detect.events.reading import Reading, content_terms
from monitor.detect.events.vectors import add_to_centroid
from monitor.detect.story_index import StoryIndex
from monitor.store.articles import set_stories
from monitor.store.stories import StoryRecord, find_story, write_stories
from monitor.store.story_vectors import (
    ArticleVector,
    StoryVector,
    write_article_vectors,
    write_story_vectors,
)
from monitor.store.term_counts import add_term_counts

__all__ = [
    "StoredArticle",
    "StoryBatch",
    "StoryIndex",
    "StoryPolicy",
    "assign_story",
    "count_words",
    "story_id_for",
]

MAX_VESSELS = 24  # vessels a story remembers: its members' names, the first ones


def story_id_for(article: StoredArticle) -> str:
    seed = article.canonical_url or article.content_hash
    return "st-" + hashlib.sha1(seed.encode()).hexdigest()[:10]


def assign_story(
    session: Session,
    article: StoredArticle,
    policy: StoryPolicy,
    index: StoryIndex,
    batch: StoryBatch,
    reading: Reading | None = None,
) -> str:
    """Join the article to the most similar story within the window, or start a new one.

    The article is one of a transaction's batch: stories are collected in ``batch`` and
    written together (:meth:`StoryBatch.write`), and the article's story id is known from the
    batch before its row says so. ``reading`` is what was read of its words beforehand
    (:mod:`monitor.detect.prepared`), if anything.
    """
    assert article.id is not None
    batch.index = index
    report = read_report(article.title, article.text, index.rarity, article.fetched, reading)
    joined = best_story(index.events, report, article.dated, policy)
    index.rarity.add(report.terms, article.fetched)
    story = None
    if joined is not None:
        story = batch.stories.get(joined.story.id) or find_story(session, joined.story.id)
    if story is None:
        joined = None
        story = StoryRecord(
            id=story_id_for(article),
            headline=article.title,
            first_published=article.dated,
            last_published=article.dated,
        )
        entry = StoryEntry(
            story.id, dict(report.vector), report.vessels, article.dated, article.dated, 1
        )
    else:
        if article.dated < story.first_published and article.title:
            story.headline = article.title  # the first report names the story, whatever order
        story.first_published = min(story.first_published, article.dated)
        story.last_published = max(story.last_published, article.dated)
        grown = joined.story
        vessels = sorted(grown.vessels) + sorted(report.vessels - grown.vessels)
        entry = StoryEntry(
            story.id,
            add_to_centroid(grown.centroid, report.vector),
            frozenset(vessels[:MAX_VESSELS]),
            min(grown.first, article.dated),
            max(grown.last, article.dated),
            grown.members + 1,
        )
    entry.last_article = article.id
    entry.seen = article.fetched  # its newest report arrived now: the index's clock
    index.stage(entry)
    batch.stories[story.id] = story
    batch.entries[story.id] = entry
    batch.of_article[article.id] = story.id
    rounded = {w: round(x, 5) for w, x in report.vector.items()}
    if joined is None:  # the story's centroid is this vector: stored rounded the same way
        batch.rounded[story.id] = (entry, rounded)
    batch.vectors.append(
        ArticleVector(
            article.id,
            story.id,
            rounded,
            sorted(report.vessels),
            None if joined is None else joined.similarity,
            [] if joined is None else joined.shared,
        )
    )
    article.story_id = story.id
    return story.id


def count_words(
    article: StoredArticle,
    index: StoryIndex,
    batch: StoryBatch,
    terms: list[str] | None = None,
) -> None:
    """Count an article that starts no story (it matched no rule) in the rarity table all the
    same: a word's weight is its rarity in all the news taken in, not in what alerted.
    ``terms`` are its distinct content words, if read beforehand."""
    batch.index = index
    if terms is None:
        terms = content_terms(article.title, article.text)
    index.rarity.add(terms, article.fetched)


@dataclass(slots=True)
class StoryBatch:
    """The stories of one transaction's articles, kept as plain records until the end, so
    that a batch writes them in a few statements, not one an article."""

    stories: dict[str, StoryRecord] = field(default_factory=dict)
    of_article: dict[int, str] = field(default_factory=dict)  # article id -> story id
    entries: dict[str, StoryEntry] = field(default_factory=dict)  # the matcher's view
    vectors: list[ArticleVector] = field(default_factory=list)
    index: StoryIndex | None = None
    # A story started in the batch, with its one member's rounded vector: its centroid as
    # stored, unless a later article of the batch grew it (another entry then stands for it).
    rounded: dict[str, tuple[StoryEntry, dict[str, float]]] = field(default_factory=dict)

    @property
    def started(self) -> list[StoryRecord]:
        return [s for s in self.stories.values() if s.stored is None]

    def write(self, session: Session) -> None:
        """Write the new stories, the stored ones that grew, each article's story id, vector
        and reason, the stories' centroids and the batch's word counts."""
        write_stories(session, list(self.stories.values()))
        set_stories(session, self.of_article)
        write_story_vectors(
            session,
            [
                StoryVector(
                    e.id,
                    self._rounded(e),
                    sorted(e.vessels),
                    e.first,
                    e.last,
                    e.members,
                    e.last_article,
                )
                for e in self.entries.values()
            ],
        )
        write_article_vectors(session, self.vectors)
        if self.index is not None:
            self.index.written_seq = add_term_counts(session, self.index.rarity.pending())

    def _rounded(self, entry: StoryEntry) -> dict[str, float]:
        started = self.rounded.get(entry.id)
        if started is not None and started[0] is entry:
            return started[1]
        return {w: round(x, 5) for w, x in entry.centroid.items()}


class StoredArticle(Protocol):
    """What story assignment reads of an article: a stored row, or a batch's plain record
    of one."""

    id: int | None
    title: str
    text: str
    canonical_url: str
    content_hash: str
    dated: datetime
    fetched: datetime
    story_id: str | None
