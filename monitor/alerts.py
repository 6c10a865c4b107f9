"""Alerts: one per (rule, story); each matching report of the story becomes a citation."""

from __future__ import annotations

import hashlib

from sqlmodel import Session, select

from monitor.models import AlertView, CitationView
from monitor.rules import Match
from monitor.store.tables import AlertRow, ArticleRow, CitationRow, StoryRow, utcnow


def alert_id_for(rule_id: str, story_id: str) -> str:
    return "al-" + hashlib.sha1(f"{rule_id}\n{story_id}".encode()).hexdigest()[:10]


def record_match(session: Session, article: ArticleRow, match: Match) -> str | None:
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


def list_alert_ids(session: Session) -> list[str]:
    return list(session.exec(select(AlertRow.id).order_by(AlertRow.created, AlertRow.id)).all())
