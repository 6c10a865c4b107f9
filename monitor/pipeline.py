"""Articles in, alerts out: store -> stories -> match -> alerts, one article per transaction.

Each article is committed with its story and its citations in one transaction, so a crash
leaves either all of an article's effects or none, and a restart simply re-polls.

An article that raises fails alone: its transaction rolls back, the rest of the batch is
stored, and the failure is counted against the item (``monitor.store.failures``) so that it is
retried at the next polls and quarantined after a few. Only a fault of the store itself (a lost
connection, a lock timeout) fails the whole batch, because no article is to blame for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, or_, select

from monitor.alerts import record_match
from monitor.leases import serialized
from monitor.metrics import Metrics
from monitor.models import Article
from monitor.rules import Matcher
from monitor.store import Store
from monitor.store.failures import (
    clear_failure,
    failure_key,
    known_failures,
    record_failure,
    store_fault,
)
from monitor.store.tables import AlertRow, ArticleRow, ForgottenRow, StoryRow, utcnow
from monitor.stories import StoryIndex, StoryPolicy, assign_story
from monitor.text import tokenize

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestResult:
    new: int = 0
    duplicates: int = 0
    matches: int = 0
    changed_alerts: list[str] = field(default_factory=list)
    failed: int = 0  # articles that raised this time; retried at the next poll
    quarantined: int = 0  # articles skipped: they failed too often (see store.failures)
    errors: list[str] = field(default_factory=list)  # why, one line per failed article

    def merge(self, other: IngestResult) -> None:
        self.new += other.new
        self.duplicates += other.duplicates
        self.matches += other.matches
        self.failed += other.failed
        self.quarantined += other.quarantined
        self.errors.extend(other.errors)
        for alert_id in other.changed_alerts:
            if alert_id not in self.changed_alerts:
                self.changed_alerts.append(alert_id)


def content_hash(title: str, text: str) -> str:
    """Hash of the words alone, so markup and spacing differences do not make a new article."""
    words = tokenize(f"{title}\n{text}").joined
    return hashlib.sha256(words.encode()).hexdigest()


def _own_title(title: str, text: str) -> str:
    """The title, unless it is only the opening of the text (a headline guessed from the body),
    which would otherwise be matched and quoted twice."""
    return "" if text.startswith(title.rstrip("\u2026")) else title


class Pipeline:
    def __init__(
        self,
        store: Store,
        matcher: Matcher,
        policy: StoryPolicy | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.matcher = matcher
        self.policy = policy or StoryPolicy()
        self.stories = StoryIndex(horizon=self.policy.window * 2 + timedelta(days=1))
        self.metrics = metrics

    def ingest(self, articles: Iterable[Article]) -> IngestResult:
        """Store each article with its story and alerts; see the module's docstring for what
        happens when one raises."""
        result = IngestResult()
        batch = [(article, content_hash(article.title, article.text)) for article in articles]
        if not batch:
            return result
        keys = [failure_key(article, digest) for article, digest in batch]
        with self.store.session() as session:
            failed_before = known_failures(
                session, [(a.feed, key) for (a, _), key in zip(batch, keys, strict=True)]
            )
            session.rollback()  # end the read: each article takes the lock afresh
            for (article, digest), key in zip(batch, keys, strict=True):
                if failed_before.get((article.feed, key)):
                    result.quarantined += 1
                    continue
                try:
                    # Replicas take turns here, and each first indexes what the others
                    # stored, so two reports of one story arriving at two replicas at once
                    # still join one story and one alert.
                    serialized(session)
                    self.stories.sync(session)
                    one = self._ingest_one(session, article, digest)
                    if (article.feed, key) in failed_before:
                        clear_failure(session, article.feed, key)
                    session.commit()  # one article, one transaction: a crash loses no other
                    self.stories.commit()
                except Exception as exc:
                    session.rollback()
                    self.stories.rollback()
                    if store_fault(exc):
                        raise
                    result.merge(self._failed(article, key, exc))
                    continue
                result.merge(one)
        return result

    def _failed(self, article: Article, key: str, exc: Exception) -> IngestResult:
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        failure = record_failure(self.store, article, key, error, utcnow())
        where = {"feed": article.feed, "article_key": key}
        label = article.title[:80] or key
        then = (
            f"quarantined after {failure.attempts} failed attempts"
            if failure.quarantined
            else f"could not be stored (attempt {failure.attempts}, retried at the next poll)"
        )
        log.log(
            logging.ERROR if failure.quarantined else logging.WARNING,
            "article %r of feed %s %s: %s",
            label,
            article.feed,
            then,
            error,
            exc_info=exc,
            extra=where,
        )
        if self.metrics is not None:
            self.metrics.article_failures.labels(article.feed).inc()
        return IngestResult(
            failed=0 if failure.quarantined else 1,
            quarantined=1 if failure.quarantined else 0,
            errors=[f"{label}: {error}"],
        )

    def _ingest_one(self, session: Session, article: Article, digest: str) -> IngestResult:
        result = IngestResult()
        if self._seen(session, article, digest):
            result.duplicates = 1
            self._count("duplicates")
            return result
        now = utcnow()
        row = ArticleRow(
            external_id=article.external_id,
            feed=article.feed,
            url=article.url,
            canonical_url=article.canonical_url,
            content_hash=digest,
            source=article.source,
            title=article.title,
            text=article.text,
            published=article.published,
            fetched=now,
            dated=article.published or now,
        )
        session.add(row)
        session.flush()
        story_id = assign_story(session, row, self.policy, self.stories)
        new_story = any(isinstance(o, StoryRow) and o.id == story_id for o in session.new)
        session.flush()
        result.new = 1
        self._count("articles")
        if new_story:
            self._count("stories")
        fields = {"title": _own_title(row.title, row.text), "text": row.text, "source": row.source}
        for match in self.matcher.match(fields):
            result.matches += 1
            rule = match.rule.id
            self._count("matches", rule)
            alert_id = record_match(session, row, match)
            if alert_id and alert_id not in result.changed_alerts:
                result.changed_alerts.append(alert_id)
            if alert_id:
                self._count("citations", rule)
                alert = session.get(AlertRow, alert_id)
                if alert is not None and alert.revision == 1:
                    self._count("alerts", rule)
            log.info(
                "article %s matched rule %s (story %s)",
                row.id,
                rule,
                row.story_id,
                extra={"article": row.id, "rule": rule, "story": row.story_id, "alert": alert_id},
            )
        return result

    def _count(self, name: str, rule: str | None = None) -> None:
        if self.metrics is not None:
            counter = getattr(self.metrics, name)
            (counter.labels(rule) if rule else counter).inc()

    @staticmethod
    def _seen(session: Session, article: Article, digest: str) -> bool:
        """Stored before by guid, canonical URL or words; or stored and pruned since."""
        for table in (ArticleRow, ForgottenRow):
            conditions = [table.content_hash == digest]
            if article.external_id:
                conditions.append(
                    (table.external_id == article.external_id) & (table.feed == article.feed)
                )
            if article.canonical_url:
                conditions.append(table.canonical_url == article.canonical_url)
            if session.exec(select(table.id).where(or_(*conditions)).limit(1)).first():
                return True
        return False
