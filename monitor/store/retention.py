"""What retention deletes: old articles no alert cites, empty stories, old daemon records
(and what the event matcher kept of the articles and stories deleted).

An article is deleted only with its keys kept in ``forgotten`` (see
:mod:`monitor.store.articles`), in the same transaction, so that a feed still listing it does
not bring it back as news.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists
from sqlmodel import Session, col, func, select

from monitor.store.story_edits import StoryEditRow
from monitor.store.tables import (
    AlertRow,
    ArticleRow,
    ArticleVectorRow,
    CitationRow,
    ForgottenRow,
    ReplicaRow,
    StoryRow,
    StoryVectorRow,
)


def _prunable(cutoff: datetime):
    """Articles dated and fetched before ``cutoff`` that no alert cites."""
    return (
        (ArticleRow.dated < cutoff)
        & (ArticleRow.fetched < cutoff)
        & ~exists().where(CitationRow.article_id == ArticleRow.id)
    )


def count_prunable_articles(session: Session, cutoff: datetime) -> int:
    return session.exec(select(func.count()).where(_prunable(cutoff))).one()


def forget_articles(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
    """Delete up to ``limit`` prunable articles, keeping their keys; returns how many."""
    rows = session.exec(
        select(
            ArticleRow.id,
            ArticleRow.feed,
            ArticleRow.external_id,
            ArticleRow.canonical_url,
            ArticleRow.content_hash,
        )
        .where(_prunable(cutoff))
        .limit(limit)
    ).all()
    if not rows:
        return 0
    session.add_all(
        ForgottenRow(feed=f, external_id=e, canonical_url=c, content_hash=h, pruned=now)
        for _, f, e, c, h in rows
    )
    ids = [r[0] for r in rows]
    session.execute(delete(ArticleVectorRow).where(col(ArticleVectorRow.article_id).in_(ids)))
    session.execute(delete(ArticleRow).where(col(ArticleRow.id).in_(ids)))
    return len(ids)


def empty_stories(session: Session, cutoff: datetime) -> list[str]:
    """Stories last reported before ``cutoff`` that no article or alert refers to."""
    empty = (
        (StoryRow.last_published < cutoff)
        & ~exists().where(ArticleRow.story_id == StoryRow.id)
        & ~exists().where(AlertRow.story_id == StoryRow.id)
    )
    return list(session.exec(select(StoryRow.id).where(empty)).all())


def delete_old_edits(session: Session, cutoff: datetime) -> int:
    """Delete analysts' merges and splits made before ``cutoff`` whose stories are both gone
    (pruned, or merged away); returns how many. The newest edit always stays: its number is
    where every story index resumes, and a table emptied would number the next edit 1 again
    on SQLite, under what the indexes have already seen."""
    newest = session.exec(select(func.max(StoryEditRow.id))).one()
    if newest is None:
        return 0
    gone = (
        (StoryEditRow.created < cutoff)
        & (col(StoryEditRow.id) < newest)
        & ~exists().where(StoryRow.id == StoryEditRow.story_id)
        & ~exists().where(StoryRow.id == StoryEditRow.other_story)
    )
    ids = list(session.exec(select(StoryEditRow.id).where(gone)).all())
    if ids:
        session.execute(delete(StoryEditRow).where(col(StoryEditRow.id).in_(ids)))
    return len(ids)


def replicas_silent_since(session: Session, before: datetime) -> list[str]:
    """Daemon lives whose last sign of life is older than ``before``."""
    return list(session.exec(select(ReplicaRow.id).where(ReplicaRow.heartbeat < before)).all())


def delete_stories(session: Session, story_ids: list[str]) -> None:
    """The stories, and what the event matcher kept of them (they are long out of its window)."""
    session.execute(delete(StoryVectorRow).where(col(StoryVectorRow.story_id).in_(story_ids)))
    session.execute(delete(StoryRow).where(col(StoryRow.id).in_(story_ids)))


def delete_replicas(session: Session, replica_ids: list[str]) -> None:
    session.execute(delete(ReplicaRow).where(col(ReplicaRow.id).in_(replica_ids)))
