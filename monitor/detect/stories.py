"""Stories: reports of one event from several outlets, grouped so that they alert once.

Candidates for a new article's story come from the MinHash index
(:mod:`monitor.detect.story_index`). Each candidate is then confirmed on word 3-grams, which
rewrites keep (the seed pair: 0.26 Jaccard) and unrelated reports do not (under 0.05), and must
lie within the story window. The article joins the story of the best confirmed candidate, or
starts its own.

Stories are assigned a transaction's batch at a time: they are collected in a
:class:`StoryBatch` and written together at its end, and a later article of the batch already
joins a story an earlier one started, exactly as if each had been committed alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from monitor.detect.story_index import StoryIndex, signature
from monitor.store.articles import set_stories, stories_of
from monitor.store.stories import StoryRecord, find_story, write_stories
from monitor.util.text import shingles

__all__ = [
    "StoredArticle",
    "StoryBatch",
    "StoryIndex",
    "StoryPolicy",
    "assign_story",
    "signature",
    "similarity",
    "story_id_for",
]


@dataclass(frozen=True, slots=True)
class StoryPolicy:
    window: timedelta = timedelta(days=7)
    min_jaccard: float = 0.12
    min_containment: float = 0.30


def similarity(a: set[int], b: set[int]) -> tuple[float, float]:
    """(Jaccard, containment) of two shingle sets."""
    if not a or not b:
        return 0.0, 0.0
    shared = len(a & b)
    return shared / len(a | b), shared / min(len(a), len(b))


def story_id_for(article: StoredArticle) -> str:
    seed = article.canonical_url or article.content_hash
    return "st-" + hashlib.sha1(seed.encode()).hexdigest()[:10]


def assign_story(
    session: Session,
    article: StoredArticle,
    policy: StoryPolicy,
    index: StoryIndex,
    batch: StoryBatch,
) -> str:
    """Join the article to the most similar story within the window, or start a new one.

    The article is one of a transaction's batch: stories are collected in ``batch`` and
    written together (:meth:`StoryBatch.write`), and the article's story id is known from the
    batch before its row says so.
    """
    assert article.id is not None
    minhash = signature(article.title, article.text)
    lo, hi = article.dated - policy.window, article.dated + policy.window
    best_story, best_score = None, 0.0
    keys = index.candidates(minhash, lo, hi)
    mine = shingles(f"{article.title}\n{article.text}")
    scores = {}
    for key in keys:  # the exact check first: most candidates fail it, and cost no query
        jaccard, containment = similarity(mine, index.grams(session, key))
        if jaccard >= policy.min_jaccard or containment >= policy.min_containment:
            scores[key] = max(jaccard, containment)
    if scores:
        for other_id, other_story in stories_of(session, scores).items():
            other_story = batch.of_article.get(other_id, other_story)
            if scores[other_id] > best_score:
                best_story, best_score = other_story, scores[other_id]
    story = None
    if best_story:
        story = batch.stories.get(best_story) or find_story(session, best_story)
    if story is not None and article.dated - story.first_published > policy.window:
        story = None  # a story older than the window does not absorb a new event
    if story is None:
        story = StoryRecord(
            id=story_id_for(article),
            headline=article.title,
            first_published=article.dated,
            last_published=article.dated,
        )
    else:
        if article.dated < story.first_published and article.title:
            story.headline = article.title  # the first report names the story, whatever order
        story.first_published = min(story.first_published, article.dated)
        story.last_published = max(story.last_published, article.dated)
    batch.stories[story.id] = story
    batch.of_article[article.id] = story.id
    article.story_id = story.id
    index.stage(article.id, article.dated, minhash, mine)
    return story.id


@dataclass(slots=True)
class StoryBatch:
    """The stories of one transaction's articles, kept as plain records until the end, so
    that a batch writes them in a few statements, not one an article."""

    stories: dict[str, StoryRecord] = field(default_factory=dict)
    of_article: dict[int, str] = field(default_factory=dict)  # article id -> story id

    @property
    def started(self) -> list[StoryRecord]:
        return [s for s in self.stories.values() if s.stored is None]

    def write(self, session: Session) -> None:
        """Write the new stories, the stored ones that grew, and each article's story id."""
        write_stories(session, list(self.stories.values()))
        set_stories(session, self.of_article)


class StoredArticle(Protocol):
    """What story assignment reads of an article: a stored row, or a batch's plain record
    of one."""

    id: int | None
    title: str
    text: str
    canonical_url: str
    content_hash: str
    dated: datetime
    story_id: str | None
