"""Articles in, alerts out: store -> match -> stories -> alerts, one transaction per batch.

An article that matches a rule joins or starts a story (every article does with
``story_scope: all``); the others only count in the words' rarity, which is taken from all the
news (:func:`monitor.detect.stories.count_words`).

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

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Literal

from sqlmodel import Session

from monitor.alerting.alerts import record_match
from monitor.detect.batch import BatchOutcome, IngestResult, Item, MatchLog, still_to_store
from monitor.detect.prepared import content_hash, digest_of, reading_of, rules_matched, terms_of
from monitor.detect.rules import Matcher
from monitor.detect.rules.results import Match
from monitor.detect.stories import (
    StoryBatch,
    StoryIndex,
    StoryPolicy,
    assign_story,
    count_words,
)
from monitor.models import Article
from monitor.service.metrics import Metrics
from monitor.store import Store
from monitor.store.articles import ArticleRecord, insert_articles, known_articles
from monitor.store.claims import serialized
from monitor.store.failures import (
    clear_failure,
    failure_key,
    known_failures,
    record_failure,
    store_fault,
)
from monitor.store.statistics import Statistics
from monitor.store.tables import utcnow

log = logging.getLogger(__name__)
BATCH = 200  # articles a transaction at most: a feed's worth, and a bounded rollback
StoryScope = Literal["matched", "all"]  # which articles are grouped into stories
# Work of the caller's done in the batch's transaction: (session, articles stored) -> its answer.
Finish = Callable[[Session, int], bool]
__all__ = ["BATCH", "IngestResult", "Pipeline", "StoryScope", "content_hash"]


class Pipeline:
    def __init__(
        self,
        store: Store,
        matcher: Matcher,
        policy: StoryPolicy | None = None,
        metrics: Metrics | None = None,
        batch: int = BATCH,
        story_scope: StoryScope = "matched",
    ) -> None:
        self.store = store
        self.batch = batch  # 1: one article a transaction, as a failed batch is stored again
        self.matcher = matcher
        self.policy = policy or StoryPolicy()
        self.stories = StoryIndex(horizon=self.policy.window * 2 + timedelta(days=1))
        self.metrics = metrics
        # "matched": only an article that matched a rule joins or starts a story, since a
        # story exists to give an event one alert; the rest count in the words' rarity only.
        self.story_scope = story_scope
        self.statistics = Statistics(store)

    def use_rules(self, matcher: Matcher) -> None:
        """Match with a new rule set (a reload of the rule files) from the next article on."""
        self.matcher = matcher

    def ingest(self, articles: Iterable[Article], finish: Finish | None = None) -> IngestResult:
        """Store each article with its story and alerts; see the module's docstring for what
        happens when one raises. ``finish`` (the poll's record) runs in the transaction that
        stores the articles, if one transaction stores them all; ``result.finished`` is what it
        returned, or None if it did not run there (the caller then does that work alone). If
        it raises, the batch is stored again, as one batch, without it."""
        result = IngestResult()
        todo = []
        for article in articles:
            digest = digest_of(article)
            todo.append(Item(article, digest, failure_key(article, digest)))
        if not todo:
            return result
        with self.store.session() as session:
            if self.batch <= 1:
                result.merge(self._one_by_one(session, todo))
                return result
            whole = finish if len(todo) <= self.batch else None
            for start in range(0, len(todo), self.batch):
                chunk = todo[start : start + self.batch]
                try:
                    done = self._transaction(session, chunk, whole)
                except Exception as exc:
                    if store_fault(exc):
                        raise
                    # Which article is to blame is found by storing them one by one.
                    log.info(
                        "a batch of %d article(s) raised (%s); storing them one by one",
                        len(chunk),
                        _first_line(exc),
                    )
                    result.merge(self._one_by_one(session, chunk))
                    continue
                result.merge(done.result)
                result.finished = done.result.finished
        return result

    def _one_by_one(self, session: Session, items: Sequence[Item]) -> IngestResult:
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

    def _transaction(
        self, session: Session, items: Sequence[Item], finish: Finish | None = None
    ) -> BatchOutcome:
        """Store ``items`` in one transaction, or nothing: the story index and the counts
        follow only a commit, and any error rolls both back before it is raised."""
        in_finish = False
        try:
            # Replicas take turns here, and each first indexes what the others stored, so
            # two reports of one story arriving at two replicas at once still join one story
            # and one alert.
            serialized(session)
            self.stories.sync(session)
            done = self._ingest_batch(session, items)
            if finish is not None:
                in_finish = True
                done.result.finished = finish(session, done.result.new)
                in_finish = False
            session.commit()
        except Exception as exc:
            session.rollback()
            self.stories.rollback()
            if not in_finish or store_fault(exc):
                raise
            # No article is to blame: they are stored again as one batch, and the caller,
            # told the hook did not run, does its work alone.
            log.warning(
                "the poll's record raised in its batch's transaction (%s); storing the %d "
                "article(s) without it",
                _first_line(exc),
                len(items),
            )
            return self._transaction(session, items)
        self.stories.commit()
        done.publish(self.metrics)
        self.statistics.stored_more(done.result.new)
        return done

    def _ingest_batch(self, session: Session, items: Sequence[Item]) -> BatchOutcome:
        """Store a batch in the open transaction; counts and log lines wait for the commit.

        One query says which articles are known already (or repeat an earlier one of the
        batch), one statement inserts the rest; then each gets its story and its matches.
        """
        done = BatchOutcome()
        # Read under the lock, in the batch's transaction: a separate read before it cost a
        # transaction of its own a batch.
        failed = known_failures(session, [(i.article.feed, i.key) for i in items])
        items = still_to_store(items, failed, done.result)
        known = known_articles(session, [i.article for i in items], [i.digest for i in items])
        fresh = []
        for item in items:
            if known.knows(item.article, item.digest):
                done.result.duplicates += 1
                done.count("duplicates")
            else:
                known.note(item.article, item.digest)
                fresh.append(item)
            if item.failed_before:
                clear_failure(session, item.article.feed, item.key)
        if not fresh:
            return done
        now = utcnow()
        records = [
            ArticleRecord(
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
        insert_articles(session, records)
        stories = StoryBatch()
        for item, record in zip(fresh, records, strict=True):
            matches = self._matches(record, item.article, done)
            if matches or self.story_scope == "all":
                reading = reading_of(item.article)  # None: the words are read here
                assign_story(session, record, self.policy, self.stories, stories, reading)
            else:
                count_words(record, self.stories, stories, terms_of(item.article))
            done.result.new += 1
            done.count("articles")
            self._alert(session, record, matches, done)
        for _ in stories.started:
            done.count("stories")
        stories.write(session)
        return done

    def _matches(self, article: ArticleRecord, parsed: Article, done: BatchOutcome) -> list[Match]:
        """What a gate held back is counted and logged: a gate that vetoes more than it should
        shows in the metrics, not only in a backtest."""
        title, text, source = article.title, article.text, article.source
        matches, vetoed = rules_matched(parsed, title, text, source, self.matcher)
        for rule in vetoed:
            done.count("gate_vetoes", rule.id)
            done.vetoes.append((article.id, rule.id))
        return matches

    def _alert(
        self, session: Session, article: ArticleRecord, matches: list[Match], done: BatchOutcome
    ) -> None:
        """Record the alerts of a stored article's matches; counts and logs are collected, to
        be published once the transaction holds."""
        for match in matches:
            done.result.matches += 1
            rule = match.rule.id
            done.count("matches", rule)
            change = record_match(session, article, match)
            if change is not None:
                done.result.note_alert(change.alert_id)
                done.count("citations", rule)
                if change.created:
                    done.count("alerts", rule)
            alert_id = change.alert_id if change is not None else None
            done.logs.append(MatchLog(article.id, rule, article.story_id, alert_id))

    def _failed(self, article: Article, key: str, exc: Exception) -> IngestResult:
        error = _first_line(exc, 500)
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


def _first_line(exc: Exception, limit: int = 200) -> str:
    """An error as a log line or a failure record quotes it: its type and the first line of its
    message, cut short."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:limit]
