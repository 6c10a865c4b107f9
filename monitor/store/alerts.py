"""Alerts and their citations: open or revise an alert, cite an article, read them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from monitor.store.tables import AlertRow, ArticleRow, CitationRow, StoryRow


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """What an alert is, apart from its sources: written when it is created; afterwards only
    ``rule_version`` follows the rule that last matched."""

    id: str
    rule_id: str
    story_id: str
    title: str
    severity: str
    rule_version: str
    tags: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)


def revise_alert(session: Session, spec: AlertSpec, now: datetime) -> int:
    """Create the alert, or give it its next revision; returns the revision (1: created)."""
    return _revise(session, session.get(AlertRow, spec.id), spec, now)


def cite(
    session: Session, spec: AlertSpec, article_id: int, sentences: list[dict], now: datetime
) -> int | None:
    """Add the article as a source of the alert, creating the alert with its first source;
    returns the alert's new revision, or None if the alert cites the article already."""
    alert = session.get(AlertRow, spec.id)
    if alert is not None:
        cited = session.exec(
            select(CitationRow.id).where(
                CitationRow.alert_id == spec.id, CitationRow.article_id == article_id
            )
        ).first()
        if cited is not None:
            return None
    revision = _revise(session, alert, spec, now)
    session.add(
        CitationRow(
            alert_id=spec.id,
            article_id=article_id,
            rule_version=spec.rule_version,
            sentences=sentences,
        )
    )
    return revision


def _revise(session: Session, alert: AlertRow | None, spec: AlertSpec, now: datetime) -> int:
    if alert is None:
        fields = asdict(spec) | {"tags": list(spec.tags)}
        alert = AlertRow(**fields, revision=0, created=now)
    alert.revision += 1
    alert.updated = now
    alert.rule_version = spec.rule_version
    session.add(alert)
    return alert.revision


@dataclass(slots=True)
class StoredAlert:
    """An alert as stored: its row, its story's headline, and each citation with the article
    it cites, in the order the articles are dated."""

    alert: AlertRow
    headline: str
    citations: list[tuple[CitationRow, ArticleRow]]


def stored_alert(session: Session, alert_id: str) -> StoredAlert | None:
    alert = session.get(AlertRow, alert_id)
    if alert is None:
        return None
    story = session.get(StoryRow, alert.story_id)
    rows = session.exec(
        select(CitationRow, ArticleRow)
        .where(CitationRow.alert_id == alert_id, CitationRow.article_id == ArticleRow.id)
        .order_by(ArticleRow.dated, ArticleRow.id)
    ).all()
    return StoredAlert(alert, story.headline if story else "", [tuple(row) for row in rows])


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


def unqueued_alert_ids(session: Session, since: datetime) -> list[str]:
    """Alerts changed since ``since`` whose newest revision has no outbox rows yet: a crash or
    a stop came between storing a source and writing its notifications."""
    query = select(AlertRow.id).where(
        AlertRow.updated >= since, AlertRow.revision > AlertRow.queued
    )
    return list(session.exec(query).all())


def mark_queued(session: Session, alert_id: str, revision: int) -> None:
    """Note that the alert's ``revision`` has had its outbox rows written."""
    row = session.get(AlertRow, alert_id)
    if row is not None and row.queued != revision:
        row.queued = revision
        session.add(row)
