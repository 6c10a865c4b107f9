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

from monitor.detect.events.rarity import arrival_weight
from monitor.store import Store
from monitor.store.claims import serialized
from monitor.store.retention import (
    count_prunable_articles,
    delete_old_edits,
    delete_replicas,
    delete_stories,
    empty_stories,
    forget_articles,
    replicas_silent_since,
)
from monitor.store.tables import utcnow
from monitor.store.term_counts import prune_term_counts

log = logging.getLogger(__name__)
BATCH = 1000
MIN_AGE = timedelta(days=1)  # younger articles still make stories
REPLICA_HISTORY = timedelta(days=7)
FADED_WORD = 0.05  # a word count faded under this (one article, ~260 days ago) is dropped


@dataclass(slots=True)
class PruneReport:
    articles: int = 0
    stories: int = 0
    replicas: int = 0
    words: int = 0  # word counts of the event matcher that had faded to nothing
    edits: int = 0  # analysts' merges and splits of stories that are all gone

    def summary(self, dry_run: bool = False) -> str:
        verb = "would delete" if dry_run else "deleted"
        return (
            f"{verb} {self.articles} article(s) no alert cites, {self.stories} empty "
            f"story(ies), {self.replicas} old daemon record(s)"
            + (f", {self.words} faded word count(s)" if self.words else "")
            + (f", {self.edits} story edit(s) of stories gone" if self.edits else "")
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
    if dry_run:
        with store.session() as session:
            report.articles = count_prunable_articles(session, cutoff)
    while not dry_run:
        with store.session() as session:
            deleted = forget_articles(session, cutoff, now, BATCH)
            if not deleted:
                break
            session.commit()
            report.articles += deleted
    with store.session() as session:
        stories = empty_stories(session, cutoff)
        report.stories = len(stories)
        replicas = replicas_silent_since(session, now - REPLICA_HISTORY)
        report.replicas = len(replicas)
        if not dry_run:
            delete_stories(session, stories)
            delete_replicas(session, replicas)
            report.edits = delete_old_edits(session, cutoff)
            session.commit()
    if not dry_run:
        with store.session() as session:
            # Words whose faded count is under FADED_WORD (seen once, most of a year ago):
            # the general prior weighs them as it would an unseen word. Under the ingest
            # lock, since the batches not yet added into the counts are folded in first.
            serialized(session)
            report.words = prune_term_counts(session, FADED_WORD * arrival_weight(now))
            session.commit()
    if not dry_run and (report.articles or report.stories):
        log.info("retention: %s", report.summary())
    return report
