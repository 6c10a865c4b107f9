"""Retention: old articles that no alert cites are deleted; alerts and their sources stay.

An alert must stay trustworthy on its own for as long as it is kept, so a cited article is
never deleted, whatever its age. A deleted article leaves its guid, canonical URL and word
hash behind (``forgotten``), so a feed that still lists it does not bring it back as news.
Deletes go in batches so a large first prune never holds a long lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists
from sqlmodel import col, func, select

from monitor.store import Store
from monitor.store.tables import (
    AlertRow,
    ArticleRow,
    CitationRow,
    ForgottenRow,
    ReplicaRow,
    StoryRow,
    utcnow,
)

log = logging.getLogger(__name__)
BATCH = 1000
MIN_AGE = timedelta(days=1)  # younger articles still make stories
REPLICA_HISTORY = timedelta(days=7)


@dataclass(slots=True)
class PruneReport:
    articles: int = 0
    stories: int = 0
    replicas: int = 0

    def summary(self, dry_run: bool = False) -> str:
        verb = "would delete" if dry_run else "deleted"
        return (
            f"{verb} {self.articles} article(s) no alert cites, {self.stories} empty "
            f"story(ies), {self.replicas} old daemon record(s)"
        )


def prune(
    store: Store, older_than: timedelta, now: datetime | None = None, dry_run: bool = False
) -> PruneReport:
    if older_than < MIN_AGE:
        raise ValueError(
            f"--older-than must be at least {MIN_AGE.days} day: younger articles still join stories"
        )
    now = now or utcnow()
    cutoff = now - older_than
    report = PruneReport()
    old = (
        (ArticleRow.dated < cutoff)
        & (ArticleRow.fetched < cutoff)
        & ~exists().where(CitationRow.article_id == ArticleRow.id)
    )
    if dry_run:
        with store.session() as session:
            report.articles = session.exec(select(func.count()).where(old)).one()
    while not dry_run:
        with store.session() as session:
            rows = session.exec(
                select(
                    ArticleRow.id,
                    ArticleRow.feed,
                    ArticleRow.external_id,
                    ArticleRow.canonical_url,
                    ArticleRow.content_hash,
                )
                .where(old)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            session.add_all(
                ForgottenRow(feed=f, external_id=e, canonical_url=c, content_hash=h, pruned=now)
                for _, f, e, c, h in rows
            )
            ids = [r[0] for r in rows]
            session.execute(delete(ArticleRow).where(col(ArticleRow.id).in_(ids)))
            session.commit()
            report.articles += len(ids)
    empty = (
        (StoryRow.last_published < cutoff)
        & ~exists().where(ArticleRow.story_id == StoryRow.id)
        & ~exists().where(AlertRow.story_id == StoryRow.id)
    )
    with store.session() as session:
        stories = list(session.exec(select(StoryRow.id).where(empty)).all())
        report.stories = len(stories)
        gone = ReplicaRow.heartbeat < now - REPLICA_HISTORY
        replicas = list(session.exec(select(ReplicaRow.id).where(gone)).all())
        report.replicas = len(replicas)
        if not dry_run:
            session.execute(delete(StoryRow).where(col(StoryRow.id).in_(stories)))
            session.execute(delete(ReplicaRow).where(col(ReplicaRow.id).in_(replicas)))
            session.commit()
    if not dry_run and (report.articles or report.stories):
        log.info("retention: %s", report.summary())
    return report
