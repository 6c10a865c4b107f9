"""Articles in, alerts out: store -> stories -> match -> alerts, one article per transaction.

Each article is committed with its story and its citations in one transaction, so a crash
leaves either all of an article's effects or none, and a restart simply re-polls.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, or_, select

from monitor.alerts import record_match
from monitor.models import Article
from monitor.rules import Matcher
from monitor.store import Store
from monitor.store.tables import ArticleRow, utcnow
from monitor.stories import StoryIndex, StoryPolicy, assign_story
from monitor.text import tokenize

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestResult:
    new: int = 0
    duplicates: int = 0
    matches: int = 0
    changed_alerts: list[str] = field(default_factory=list)

    def merge(self, other: IngestResult) -> None:
        self.new += other.new
        self.duplicates += other.duplicates
        self.matches += other.matches
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
    def __init__(self, store: Store, matcher: Matcher, policy: StoryPolicy | None = None) -> None:
        self.store = store
        self.matcher = matcher
        self.policy = policy or StoryPolicy()
        self.stories = StoryIndex(horizon=self.policy.window * 2 + timedelta(days=1))

    def ingest(self, articles: Iterable[Article]) -> IngestResult:
        result = IngestResult()
        with self.store.session() as session:
            # What other processes stored since this one last looked; this process's own
            # articles go into the index as they are stored.
            self.stories.sync(session)
            for article in articles:
                try:
                    one = self._ingest_one(session, article)
                    session.commit()  # one article, one transaction: a crash loses no other
                except Exception:
                    session.rollback()
                    raise
                result.merge(one)
        return result

    def _ingest_one(self, session: Session, article: Article) -> IngestResult:
        result = IngestResult()
        digest = content_hash(article.title, article.text)
        if self._seen(session, article, digest):
            result.duplicates = 1
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
        assign_story(session, row, self.policy, self.stories)
        session.flush()
        result.new = 1
        fields = {"title": _own_title(row.title, row.text), "text": row.text, "source": row.source}
        for match in self.matcher.match(fields):
            result.matches += 1
            alert_id = record_match(session, row, match)
            if alert_id and alert_id not in result.changed_alerts:
                result.changed_alerts.append(alert_id)
            log.info("article %s matched rule %s (story %s)", row.id, match.rule.id, row.story_id)
        return result

    @staticmethod
    def _seen(session: Session, article: Article, digest: str) -> bool:
        conditions = [ArticleRow.content_hash == digest]
        if article.external_id:
            conditions.append(
                (ArticleRow.external_id == article.external_id) & (ArticleRow.feed == article.feed)
            )
        if article.canonical_url:
            conditions.append(ArticleRow.canonical_url == article.canonical_url)
        return (
            session.exec(select(ArticleRow.id).where(or_(*conditions)).limit(1)).first() is not None
        )
