"""The event matcher's view of stories and articles: centroids to sync, and why each article
is in its story.

What ``monitor stories show/explain`` needs is here: :func:`story_members` (each member, the
similarity it joined with and the words it shared) and :func:`article_vectors` (two articles'
vectors, to compare them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, func, select

from monitor.store.tables import ArticleVectorRow, StoryVectorRow
from monitor.store.upsert import insert_for


@dataclass(slots=True)
class StoryVector:
    story_id: str
    centroid: dict[str, float]
    vessels: list[str]
    first_dated: datetime
    last_dated: datetime
    members: int
    last_article: int


@dataclass(slots=True)
class ArticleVector:
    """One article as the matcher saw it. ``similarity`` is None for the article that started
    its story; else the cosine it joined with, and ``shared`` the words (with their share of
    it) that made it alike."""

    article_id: int
    story_id: str
    vector: dict[str, float]
    vessels: list[str]
    similarity: float | None
    shared: list[tuple[str, float]]


def write_story_vectors(session: Session, stories: Iterable[StoryVector]) -> None:
    """Insert or replace these stories' vectors, in one statement."""
    rows = [
        {
            "story_id": s.story_id,
            "centroid": s.centroid,
            "vessels": s.vessels,
            "first_dated": s.first_dated,
            "last_dated": s.last_dated,
            "members": s.members,
            "last_article": s.last_article,
        }
        for s in stories
    ]
    if not rows:
        return
    statement = insert_for(session)(StoryVectorRow.__table__)
    replaced = {name: statement.excluded[name] for name in rows[0] if name != "story_id"}
    session.execute(
        statement.on_conflict_do_update(index_elements=["story_id"], set_=replaced), rows
    )


def write_article_vectors(session: Session, articles: Sequence[ArticleVector]) -> None:
    if not articles:
        return
    session.execute(
        insert_for(session)(ArticleVectorRow.__table__),
        [
            {
                "article_id": a.article_id,
                "story_id": a.story_id,
                "vector": a.vector,
                "vessels": a.vessels,
                "similarity": a.similarity,
                "shared": [list(pair) for pair in a.shared],
            }
            for a in articles
        ],
    )


def _story(row: StoryVectorRow) -> StoryVector:
    return StoryVector(
        row.story_id,
        row.centroid,
        row.vessels,
        row.first_dated,
        row.last_dated,
        row.members,
        row.last_article,
    )


def story_vectors_after(session: Session, last_article: int) -> list[StoryVector]:
    """Stories that took in an article after ``last_article``: what a replica has not seen."""
    rows = session.exec(
        select(StoryVectorRow)
        .where(StoryVectorRow.last_article > last_article)
        .order_by(col(StoryVectorRow.last_article))
    ).all()
    return [_story(row) for row in rows]


def recent_story_vectors(session: Session, horizon: timedelta) -> list[StoryVector]:
    """Stories whose latest report is within ``horizon`` of the newest: the matcher's start."""
    newest = session.exec(select(func.max(StoryVectorRow.last_dated))).one()
    if newest is None:
        return []
    rows = session.exec(
        select(StoryVectorRow).where(StoryVectorRow.last_dated >= newest - horizon)
    ).all()
    return [_story(row) for row in rows]


def latest_vector_article(session: Session) -> int:
    return session.exec(select(func.max(StoryVectorRow.last_article))).one() or 0


def _article(row: ArticleVectorRow) -> ArticleVector:
    shared = [(str(term), float(weight)) for term, weight in row.shared]
    return ArticleVector(
        row.article_id, row.story_id, row.vector, row.vessels, row.similarity, shared
    )


def article_vectors(session: Session, article_ids: Sequence[int]) -> dict[int, ArticleVector]:
    """These articles as the matcher saw them (vector, vessels, how they joined), by id:
    what ``monitor stories explain A B`` compares."""
    rows = session.exec(
        select(ArticleVectorRow).where(col(ArticleVectorRow.article_id).in_(list(article_ids)))
    ).all()
    return {row.article_id: _article(row) for row in rows}


def story_members(session: Session, story_id: str) -> list[ArticleVector]:
    """A story's members in the order they joined, each with the similarity it joined with
    and the words it shared with the story (None and [] for the one that started it): what
    ``monitor stories show ID`` lists."""
    rows = session.exec(
        select(ArticleVectorRow)
        .where(ArticleVectorRow.story_id == story_id)
        .order_by(col(ArticleVectorRow.article_id))
    ).all()
    return [_article(row) for row in rows]


def story_vectors_of(session: Session, story_ids: Sequence[str]) -> dict[str, StoryVector]:
    """These stories' vectors, by id (a story with none is left out)."""
    rows = session.exec(
        select(StoryVectorRow).where(col(StoryVectorRow.story_id).in_(list(story_ids)))
    ).all()
    return {row.story_id: _story(row) for row in rows}


def delete_story_vectors(session: Session, story_ids: Sequence[str]) -> None:
    session.execute(delete(StoryVectorRow).where(col(StoryVectorRow.story_id).in_(list(story_ids))))


def move_article_vectors(
    session: Session, article_ids: Sequence[int], story_id: str, started: bool = False
) -> None:
    """Give these articles' vectors another story; ``started``: the article starts it, so
    it joined at no similarity and shared no words with it (as the matcher writes one)."""
    values: dict = {"story_id": story_id}
    if started:
        values |= {"similarity": None, "shared": []}
    session.execute(
        update(ArticleVectorRow)
        .where(col(ArticleVectorRow.article_id).in_(list(article_ids)))
        .values(**values)
    )
