"""Stories: reports of one event from several outlets, grouped so that they alert once.

Two reports belong to one story when they share enough word 3-grams: rewrites by another outlet
keep names, figures and quotes, so the seed pair scores about 0.26 Jaccard while unrelated
reports on the same subject stay under 0.05. Containment (shared / smaller set) catches a short
wire copy inside a longer article.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from monitor.store.tables import ArticleRow, StoryRow
from monitor.text import shingles


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


def story_id_for(article: ArticleRow) -> str:
    seed = article.canonical_url or article.content_hash
    return "st-" + hashlib.sha1(seed.encode()).hexdigest()[:10]


def assign_story(session: Session, article: ArticleRow, policy: StoryPolicy) -> str:
    """Join the article to the most similar story within the window, or start a new one."""
    mine = shingles(f"{article.title}\n{article.text}")
    lo, hi = article.dated - policy.window, article.dated + policy.window
    candidates = session.exec(
        select(ArticleRow).where(
            col(ArticleRow.story_id).is_not(None),
            ArticleRow.dated >= lo,
            ArticleRow.dated <= hi,
            ArticleRow.id != article.id,
        )
    ).all()
    best_story, best_score = None, 0.0
    for other in candidates:
        jaccard, containment = similarity(mine, shingles(f"{other.title}\n{other.text}"))
        if jaccard >= policy.min_jaccard or containment >= policy.min_containment:
            score = max(jaccard, containment)
            if score > best_score:
                best_story, best_score = other.story_id, score
    if best_story is not None:
        story = session.get(StoryRow, best_story)
        if story is not None and (article.dated - story.first_published) <= policy.window:
            story.first_published = min(story.first_published, article.dated)
            story.last_published = max(story.last_published, article.dated)
            session.add(story)
            article.story_id = story.id
            return story.id
    story = StoryRow(
        id=story_id_for(article),
        headline=article.title,
        first_published=article.dated,
        last_published=article.dated,
    )
    session.add(story)
    article.story_id = story.id
    return story.id
