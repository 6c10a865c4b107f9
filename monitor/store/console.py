"""The console's read-only queries: a page of stories by filters, what the list shows of each,
and a rule's hits by day. Writes go through the aggregates' own modules (verdicts.py).

Each page costs a fixed number of statements whatever the page size: the list's filters pick
story ids in one grouped query over alerts, and the summaries of those ids come in four more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, func, or_
from sqlmodel import Session, col, select

from monitor.store.tables import AlertRow, ArticleRow, CitationRow, NotificationRow, StoryRow
from monitor.store.verdicts import VerdictRow


@dataclass(frozen=True, slots=True)
class StoryFilter:
    rules: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    since: datetime | None = None  # on the alerts' last change
    verdict: str = ""  # relevant | not_relevant | none | "" (any)
    search: str = ""  # in headlines and cited sentences


@dataclass(slots=True)
class StorySummary:
    """A story as the list shows it."""

    id: str
    headline: str
    first_published: datetime
    last_published: datetime
    active: datetime  # its alerts' last change
    alerts: list[AlertRow] = field(default_factory=list)
    outlets: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)  # state -> rows
    verdicts: Counter[str] = field(default_factory=Counter)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def story_ids(
    session: Session, where: StoryFilter, offset: int, limit: int
) -> list[tuple[str, datetime]]:
    """Stories with alerts that pass the filter, newest activity first: (id, last change)."""
    active = func.max(AlertRow.updated).label("active")
    query = select(AlertRow.story_id, active).group_by(AlertRow.story_id)
    if where.rules:
        query = query.where(col(AlertRow.rule_id).in_(where.rules))
    if where.severities:
        query = query.where(col(AlertRow.severity).in_(where.severities))
    if where.since is not None:
        query = query.where(AlertRow.updated >= where.since)
    if where.search:
        pattern = _like(where.search)
        headlines = select(StoryRow.id).where(col(StoryRow.headline).ilike(pattern, escape="\\"))
        sentences = select(CitationRow.alert_id).where(
            cast(CitationRow.sentences, String).ilike(pattern, escape="\\")
        )
        query = query.where(
            or_(col(AlertRow.story_id).in_(headlines), col(AlertRow.id).in_(sentences))
        )
    if where.verdict:
        judged = select(VerdictRow.story_id)
        if where.verdict == "none":
            query = query.where(col(AlertRow.story_id).not_in(judged))
        else:
            judged = judged.where(VerdictRow.verdict == where.verdict)
            query = query.where(col(AlertRow.story_id).in_(judged))
    query = query.order_by(active.desc(), col(AlertRow.story_id).desc())
    return [tuple(row) for row in session.exec(query.offset(offset).limit(limit)).all()]


def story_summaries(session: Session, page: Sequence[tuple[str, datetime]]) -> list[StorySummary]:
    """What the list shows of each story of a page, in the page's order."""
    ids = [story_id for story_id, _ in page]
    if not ids:
        return []
    rows = {r.id: r for r in session.exec(select(StoryRow).where(col(StoryRow.id).in_(ids)))}
    summaries = {
        story_id: StorySummary(
            story_id,
            rows[story_id].headline,
            rows[story_id].first_published,
            rows[story_id].last_published,
            active,
        )
        for story_id, active in page
        if story_id in rows
    }
    alerts = select(AlertRow).where(col(AlertRow.story_id).in_(ids)).order_by(AlertRow.rule_id)
    for alert in session.exec(alerts):
        summaries[alert.story_id].alerts.append(alert)
    outlets = (
        select(AlertRow.story_id, func.count(func.distinct(ArticleRow.source)))
        .where(
            col(AlertRow.story_id).in_(ids),
            CitationRow.alert_id == AlertRow.id,
            ArticleRow.id == CitationRow.article_id,
        )
        .group_by(AlertRow.story_id)
    )
    for story_id, count in session.exec(outlets):
        summaries[story_id].outlets = count
    for story_id, state, count in _by_story(session, NotificationRow.state, ids):
        summaries[story_id].deliveries[state] = count
    for story_id, verdict, count in _by_story(session, VerdictRow.verdict, ids):
        summaries[story_id].verdicts[verdict] = count
    return [summaries[story_id] for story_id in ids if story_id in summaries]


def _by_story(session: Session, column, ids: list[str]):
    """(story, value, rows) of the outbox's states or the verdicts, for the stories ``ids``."""
    story = column.class_.story_id
    query = select(story, column, func.count()).where(col(story).in_(ids)).group_by(story, column)
    return session.exec(query).all()


def rule_hits(session: Session, rule_id: str, since: datetime) -> list[datetime]:
    """When the rule cited a source, since ``since``: the rule page's chart counts them by day."""
    query = select(CitationRow.created).where(
        CitationRow.alert_id == AlertRow.id,
        AlertRow.rule_id == rule_id,
        CitationRow.created >= since,
    )
    return list(session.exec(query).all())
