"""Alerts: one per (rule, story); each matching report of the story becomes a citation."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from monitor.detect.rules import Match
from monitor.detect.stories import StoredArticle
from monitor.models import AlertView, CitationView
from monitor.store.tables import AlertRow, ArticleRow, CitationRow, StoryRow, utcnow


def alert_id_for(rule_id: str, story_id: str) -> str:
    return "al-" + hashlib.sha1(f"{rule_id}\n{story_id}".encode()).hexdigest()[:10]


def record_match(session: Session, article: StoredArticle, match: Match) -> str | None:
    """Create the alert or add the article to it; the alert id if anything changed."""
    assert article.id is not None and article.story_id is not None
    rule = match.rule
    alert_id = alert_id_for(rule.id, article.story_id)
    alert = session.get(AlertRow, alert_id)
    if alert is None:
        alert = AlertRow(
            id=alert_id,
            rule_id=rule.id,
            story_id=article.story_id,
            title=rule.title,
            severity=rule.severity,
            tags=list(rule.tags),
            labels=dict(rule.labels),
            rule_version=rule.version,
            revision=0,
        )
    else:
        cited = session.exec(
            select(CitationRow.id).where(
                CitationRow.alert_id == alert_id, CitationRow.article_id == article.id
            )
        ).first()
        if cited is not None:
            return None
    alert.revision += 1
    alert.updated = utcnow()
    alert.rule_version = rule.version
    session.add(alert)
    session.add(
        CitationRow(
            alert_id=alert_id,
            article_id=article.id,
            rule_version=rule.version,
            sentences=[
                {"field": s.field, "text": s.text, "marks": [list(m) for m in s.marks]}
                for s in match.sentences
            ],
        )
    )
    return alert_id


def load_alert(session: Session, alert_id: str) -> AlertView | None:
    alert = session.get(AlertRow, alert_id)
    if alert is None:
        return None
    story = session.get(StoryRow, alert.story_id)
    rows = session.exec(
        select(CitationRow, ArticleRow)
        .where(CitationRow.alert_id == alert_id, CitationRow.article_id == ArticleRow.id)
        .order_by(ArticleRow.dated, ArticleRow.id)
    ).all()
    arrival = {cid: n for n, cid in enumerate(sorted(c.id for c, _ in rows), 1)}
    return AlertView(
        id=alert.id,
        rule=alert.rule_id,
        title=alert.title,
        severity=alert.severity,
        tags=list(alert.tags or []),
        labels=dict(alert.labels or {}),
        story=alert.story_id,
        headline=story.headline if story else "",
        rule_version=alert.rule_version,
        revision=alert.revision,
        created=alert.created,
        updated=alert.updated,
        citations=[
            CitationView(
                id=article.external_id or str(article.id),
                source=article.source,
                title=article.title,
                url=article.url,
                published=article.published,
                fetched=article.fetched,
                sentences=list(citation.sentences or []),
                seq=arrival[citation.id],
                rule_version=citation.rule_version,
            )
            for citation, article in rows
        ],
    )


def list_alert_ids(
    session: Session,
    rules: Sequence[str] = (),
    severities: Sequence[str] = (),
    stories: Sequence[str] = (),
    since: datetime | None = None,
    limit: int | None = None,
) -> list[str]:
    """Alert ids, oldest first; with ``limit``, the newest ``limit`` of them (still oldest
    first, so the latest is the last line an analyst reads). ``since`` is on the last change,
    since an alert that gained a source yesterday is news yesterday."""
    query = select(AlertRow.id)
    if rules:
        query = query.where(col(AlertRow.rule_id).in_(rules))
    if severities:
        query = query.where(col(AlertRow.severity).in_(severities))
    if stories:
        query = query.where(col(AlertRow.story_id).in_(stories))
    if since is not None:
        query = query.where(AlertRow.updated >= since)
    newest = query.order_by(col(AlertRow.created).desc(), col(AlertRow.id).desc())
    if limit is not None:
        newest = newest.limit(limit)
    return list(reversed(session.exec(newest).all()))
