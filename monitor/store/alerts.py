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


# Analysts' merges and splits of stories (monitor.alerting.regroup) move citations between
# alerts. An alert's revision counts its citations (each cite is one revision), and a message
# reports the citations numbered [from, to) of its revisions in order of arrival (by citation
# id), so what these functions write keeps both true.


def story_alerts(session: Session, story_id: str) -> list[AlertRow]:
    """The story's alerts, by rule."""
    rows = session.exec(
        select(AlertRow).where(AlertRow.story_id == story_id).order_by(col(AlertRow.rule_id))
    ).all()
    return list(rows)


def alert_citations(session: Session, alert_id: str) -> list[CitationRow]:
    """The alert's citations in order of arrival."""
    rows = session.exec(
        select(CitationRow).where(CitationRow.alert_id == alert_id).order_by(col(CitationRow.id))
    ).all()
    return list(rows)


def append_citations(
    session: Session, alert: AlertRow, citations: Sequence[CitationRow], now: datetime
) -> int:
    """Add copies of ``citations`` (another alert's) as the alert's latest sources, one
    revision each, and delete the originals; returns the alert's new revision. The copies
    take new ids, so they arrive after every source the alert had."""
    for citation in citations:
        session.add(
            CitationRow(
                alert_id=alert.id,
                article_id=citation.article_id,
                rule_version=citation.rule_version,
                sentences=list(citation.sentences or []),
                created=citation.created,
            )
        )
        session.delete(citation)
    alert.revision += len(citations)
    alert.updated = now
    session.add(alert)
    session.flush()
    return alert.revision


def rekey_alert(session: Session, alert: AlertRow, new_id: str, story_id: str) -> AlertRow:
    """The alert under another id and story, with its citations, revisions and history of
    what was queued; the old row is deleted."""
    old_id = alert.id
    moved = AlertRow(
        id=new_id,
        rule_id=alert.rule_id,
        story_id=story_id,
        title=alert.title,
        severity=alert.severity,
        tags=list(alert.tags or []),
        labels=dict(alert.labels or {}),
        rule_version=alert.rule_version,
        revision=alert.revision,
        queued=alert.queued,
        created=alert.created,
        updated=alert.updated,
    )
    citations = alert_citations(session, old_id)
    session.delete(alert)
    session.flush()  # the (rule, story) pair is unique: the old row goes first
    session.add(moved)
    for citation in citations:
        citation.alert_id = new_id
        session.add(citation)
    session.flush()
    return moved


def remove_citations(session: Session, alert: AlertRow, article_ids: Sequence[int]) -> list[int]:
    """Delete the alert's citations of these articles; returns their places in order of
    arrival (from 0). The alert's revision and queued revision drop by the citations removed
    below them (see :func:`shifted`); an alert left with no citation is deleted."""
    citations = alert_citations(session, alert.id)
    wanted = set(article_ids)
    places = [n for n, c in enumerate(citations) if c.article_id in wanted]
    for n in places:
        session.delete(citations[n])
    if len(places) == len(citations):
        session.delete(alert)
    else:
        alert.revision = shifted(alert.revision, places)
        alert.queued = shifted(alert.queued, places)
        session.add(alert)
    session.flush()
    return places


def shifted(revision: int, removed: Sequence[int]) -> int:
    """A revision once the citations at places ``removed`` are gone: each one below it
    takes one off, so the revisions still number the remaining citations."""
    return revision - sum(1 for place in removed if place < revision)


def delete_alert(session: Session, alert: AlertRow) -> None:
    session.delete(alert)
    session.flush()
