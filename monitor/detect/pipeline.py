"""Articles in, alerts out: store -> stories -> match -> alerts, one transaction per batch.

A feed's new articles are stored together: one dedup query for the whole batch, one insert of
many rows, their stories and alerts, one commit. A crash leaves either all of a batch's
effects or none, and a restart simply re-polls. Articles within a batch see each other exactly
as if each had been committed alone (a second report joins the first one's story and alert),
so what is stored and alerted does not depend on how articles were batched.

An article that raises fails alone: the batch rolls back and is stored again one article per
transaction, so the culprit's transaction is the only one to roll back, the rest are stored,
and the failure is counted against the item (``monitor.store.failures``) so that it is retried
at the next polls and quarantined after a few. Only a fault of the store itself (a lost
connection, a lock timeout) fails the whole batch, because no article is to blame for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, insert
from sqlmodel import Session, col, or_, select

from monitor.alerting.alerts import record_match
from monitor.detect.rules import Matcher
from monitor.detect.stories import StoredArticle, StoryBatch, StoryIndex, StoryPolicy, assign_story
from monitor.models import Article
from monitor.service.leases import serialized
from monitor.service.metrics import Metrics
from monitor.store import Store
from monitor.store.failures import (
    clear_failure,
    failure_key,
    known_failures,
    record_failure,
    store_fault,
)
from monitor.store.tables import AlertRow, ArticleRow, ForgottenRow, utcnow
from monitor.util.text import tokenize

log = logging.getLogger(__name__)
BATCH = 200  # articles a transaction at most: a feed's worth, and a bounded rollback
IN_CHUNK = 300  # values in one IN list, well under any driver's limit on parameters


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
        batch: int = BATCH,
    ) -> None:
        self.store = store
        self.batch = batch  # 1: one article a transaction, as a failed batch is stored again
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
            session.rollback()  # end the read: each batch takes the lock afresh
            todo: list[_Item] = []
            for (article, digest), key in zip(batch, keys, strict=True):
                if failed_before.get((article.feed, key)):
                    result.quarantined += 1
                else:
                    todo.append(_Item(article, digest, key, (article.feed, key) in failed_before))
            if self.batch <= 1:
                result.merge(self._one_by_one(session, todo))
                return result
            for start in range(0, len(todo), self.batch):
                chunk = todo[start : start + self.batch]
                try:
                    done = self._transaction(session, chunk)
                except Exception as exc:
                    if store_fault(exc):
                        raise
                    # Which article is to blame is found by storing them one by one.
                    log.info(
                        "a batch of %d article(s) raised (%s: %s); storing them one by one",
                        len(chunk),
                        type(exc).__name__,
                        str(exc).splitlines()[0][:200] if str(exc) else "",
                    )
                    result.merge(self._one_by_one(session, chunk))
                    continue
                result.merge(done.result)
        return result

    def _one_by_one(self, session: Session, items: Sequence[_Item]) -> IngestResult:
        """One article, one transaction: an article that raises rolls back alone."""
        result = IngestResult()
        for item in items:
            try:
                done = self._transaction(session, [item])
            except Exception as exc:
                if store_fault(exc):
                    raise
                result.merge(self._failed(item.article, item.key, exc))
                continue
            result.merge(done.result)
        return result

    def _transaction(self, session: Session, items: Sequence[_Item]) -> _Batch:
        """Store ``items`` in one transaction, or nothing: the story index and the counts
        follow only a commit, and any error rolls both back before it is raised."""
        try:
            # Replicas take turns here, and each first indexes what the others stored, so
            # two reports of one story arriving at two replicas at once still join one story
            # and one alert.
            serialized(session)
            self.stories.sync(session)
            done = self._ingest_batch(session, items)
            session.commit()
        except Exception:
            session.rollback()
            self.stories.rollback()
            raise
        self.stories.commit()
        done.publish(self)
        return done

    def _ingest_batch(self, session: Session, items: Sequence[_Item]) -> _Batch:
        """Store a batch in the open transaction; counts and log lines wait for the commit."""
        done = _Batch()
        seen = _Seen.of(session, items)
        fresh = []
        for item in items:
            if seen.knows(item.article, item.digest):
                done.result.duplicates += 1
                done.counts.append(("duplicates", None))
            else:
                seen.note(item.article, item.digest)
                fresh.append(item)
            if item.failed_before:
                clear_failure(session, item.article.feed, item.key)
        if not fresh:
            return done
        now = utcnow()
        rows = [
            _Row(
                external_id=item.article.external_id,
                feed=item.article.feed,
                url=item.article.url,
                canonical_url=item.article.canonical_url,
                content_hash=item.digest,
                source=item.article.source,
                title=item.article.title,
                text=item.article.text,
                published=item.article.published,
                fetched=now,
                dated=item.article.published or now,
            )
            for item in fresh
        ]
        # Rows come back in no promised order (promising one makes SQLAlchemy insert them one
        # at a time); the batch's content hashes are unique, so they say which id is whose.
        table = ArticleRow.__table__
        inserted = session.execute(
            insert(table).returning(table.c.content_hash, table.c.id),
            [row.values() for row in rows],
        )
        ids = {digest: article_id for digest, article_id in inserted}
        stories = StoryBatch()
        for row in rows:
            row.id = ids[row.content_hash]
            assign_story(session, row, self.policy, self.stories, stories)
            done.result.new += 1
            done.counts.append(("articles", None))
            self._match(session, row, done.result, done.counts, done.logs)
        done.counts.extend(("stories", None) for _ in stories.started)
        stories.write(session)
        return done

    def _match(
        self,
        session: Session,
        row: StoredArticle,
        result: IngestResult,
        counts: list[tuple[str, str | None]],
        logs: list[tuple[int | None, str, str | None, str | None]],
    ) -> None:
        """Match a stored article and record its alerts; counts and logs are collected, to
        be published once the transaction holds."""
        fields = {"title": _own_title(row.title, row.text), "text": row.text, "source": row.source}
        for match in self.matcher.match(fields):
            result.matches += 1
            rule = match.rule.id
            counts.append(("matches", rule))
            alert_id = record_match(session, row, match)
            if alert_id and alert_id not in result.changed_alerts:
                result.changed_alerts.append(alert_id)
            if alert_id:
                counts.append(("citations", rule))
                alert = session.get(AlertRow, alert_id)
                if alert is not None and alert.revision == 1:
                    counts.append(("alerts", rule))
            logs.append((row.id, rule, row.story_id, alert_id))

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

    def _count(self, name: str, rule: str | None = None) -> None:
        if self.metrics is not None:
            counter = getattr(self.metrics, name)
            (counter.labels(rule) if rule else counter).inc()


def _log_matches(logs: Iterable[tuple[int | None, str, str | None, str | None]]) -> None:
    for article_id, rule, story_id, alert_id in logs:
        log.info(
            "article %s matched rule %s (story %s)",
            article_id,
            rule,
            story_id,
            extra={"article": article_id, "rule": rule, "story": story_id, "alert": alert_id},
        )


@dataclass(slots=True)
class _Row:
    """An article row of a batch, as plain data: inserted with the others in one statement,
    then read by story assignment and matching as a stored row would be."""

    external_id: str
    feed: str
    url: str
    canonical_url: str
    content_hash: str
    source: str
    title: str
    text: str
    published: datetime | None
    fetched: datetime
    dated: datetime
    id: int | None = None
    story_id: str | None = None

    def values(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _ROW_COLUMNS}


_ROW_COLUMNS = [f for f in _Row.__dataclass_fields__ if f not in ("id", "story_id")]


@dataclass(slots=True)
class _Item:
    article: Article
    digest: str
    key: str  # see store.failures.failure_key
    failed_before: bool  # failed at an earlier poll, not (yet) quarantined


@dataclass(slots=True)
class _Batch:
    """What a batch did, kept aside until it commits: a batch that rolls back is stored
    again one by one, and must not have counted or logged anything twice."""

    result: IngestResult = field(default_factory=IngestResult)
    counts: list[tuple[str, str | None]] = field(default_factory=list)
    logs: list[tuple[int | None, str, str | None, str | None]] = field(default_factory=list)

    def publish(self, pipeline: Pipeline) -> None:
        for name, rule in self.counts:
            pipeline._count(name, rule)
        _log_matches(self.logs)


@dataclass(slots=True)
class _Seen:
    """Guids (per feed), canonical URLs and content hashes already stored or forgotten, read
    in one query a table for a whole batch, then grown with the batch's own articles."""

    guids: set[tuple[str, str]]
    urls: set[str]
    hashes: set[str]

    @classmethod
    def of(cls, session: Session, items: Sequence[_Item]) -> _Seen:
        seen = cls(set(), set(), set())
        guids: dict[str, list[str]] = {}
        for item in items:
            if item.article.external_id:
                guids.setdefault(item.article.feed, []).append(item.article.external_id)
        urls = sorted({i.article.canonical_url for i in items if i.article.canonical_url})
        hashes = sorted({i.digest for i in items})
        for table in (ArticleRow, ForgottenRow):
            conditions = [
                and_(table.feed == feed, col(table.external_id).in_(chunk))
                for feed, ids in guids.items()
                for chunk in _chunks(sorted(set(ids)))
            ]
            conditions += [col(table.canonical_url).in_(chunk) for chunk in _chunks(urls)]
            conditions += [col(table.content_hash).in_(chunk) for chunk in _chunks(hashes)]
            rows = session.exec(
                select(
                    table.feed, table.external_id, table.canonical_url, table.content_hash
                ).where(or_(*conditions))
            ).all()
            for feed, external_id, canonical, digest in rows:
                seen.guids.add((feed, external_id))
                seen.urls.add(canonical)
                seen.hashes.add(digest)
        return seen

    def knows(self, article: Article, digest: str) -> bool:
        return (
            digest in self.hashes
            or bool(article.external_id and (article.feed, article.external_id) in self.guids)
            or bool(article.canonical_url and article.canonical_url in self.urls)
        )

    def note(self, article: Article, digest: str) -> None:
        self.hashes.add(digest)
        if article.external_id:
            self.guids.add((article.feed, article.external_id))
        if article.canonical_url:
            self.urls.add(article.canonical_url)


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)]
