"""Alerts: one per (rule, story); each matching report of the story becomes a citation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlmodel import Session

from monitor.detect.rules import Match
from monitor.detect.stories import StoredArticle
from monitor.models import AlertView, CitationView
from monitor.store.alerts import AlertSpec, cite, stored_alert
from monitor.store.tables import utcnow


def alert_id_for(rule_id: str, story_id: str) -> str:
    return "al-" + hashlib.sha1(f"{rule_id}\n{story_id}".encode()).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class AlertChange:
    """An alert that was created or revised in the open transaction."""

    alert_id: str
    revision: int

    @property
    def created(self) -> bool:
        return self.revision == 1


def record_match(session: Session, article: StoredArticle, match: Match) -> AlertChange | None:
    """Create the alert or add the article to it; None if the alert cited it already."""
    assert article.id is not None and article.story_id is not None
    rule = match.rule
    spec = AlertSpec(
        id=alert_id_for(rule.id, article.story_id),
        rule_id=rule.id,
        story_id=article.story_id,
        title=rule.title,
        severity=rule.severity,
        rule_version=rule.version,
        tags=tuple(rule.tags),
        labels=dict(rule.labels),
    )
    sentences = [
        {"field": s.field, "text": s.text, "marks": [list(m) for m in s.marks]}
        | ({"why": s.why} if s.why else {})
        for s in match.sentences
    ]
    revision = cite(session, spec, article.id, sentences, utcnow())
    return None if revision is None else AlertChange(spec.id, revision)


def load_alert(session: Session, alert_id: str) -> AlertView | None:
    """The alert as channels and the command line show it; citations are numbered in the
    order they arrived, and listed in the order their articles are dated."""
    stored = stored_alert(session, alert_id)
    if stored is None:
        return None
    alert, rows = stored.alert, stored.citations
    arrival = {cid: n for n, cid in enumerate(sorted(c.id for c, _ in rows), 1)}
    return AlertView(
        id=alert.id,
        rule=alert.rule_id,
        title=alert.title,
        severity=alert.severity,
        tags=list(alert.tags or []),
        labels=dict(alert.labels or {}),
        story=alert.story_id,
        headline=stored.headline,
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
