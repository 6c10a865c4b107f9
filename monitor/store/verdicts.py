"""Analysts' verdicts on citations: "was this source relevant to the rule that cited it?".

One verdict per (rule, article): an analyst who changes their mind replaces it. The cited
sentences are kept with the verdict, so that ``monitor feedback export`` turns it into a rule
example without reading the article again (and even after the article has been pruned).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from monitor.store.tables import ArticleRow, utcnow
from monitor.store.upsert import insert_for

RELEVANT = "relevant"
NOT_RELEVANT = "not_relevant"
VERDICTS = (RELEVANT, NOT_RELEVANT)


class VerdictRow(SQLModel, table=True):
    __tablename__ = "verdicts"
    __table_args__ = (UniqueConstraint("rule_id", "article_id"),)
    id: int | None = Field(default=None, primary_key=True)
    rule_id: str = Field(index=True)
    story_id: str = Field(index=True)
    article_id: int = Field(index=True)
    citation: str = ""  # the citation's id as `alerts list --json` shows it
    verdict: str = RELEVANT  # relevant | not_relevant
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    sentences: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A verdict to record: which citation (rule, story, article), and what the analyst said."""

    rule_id: str
    story_id: str
    article_id: int
    citation: str
    verdict: str
    note: str
    sentences: tuple[str, ...]


def record_verdict(session: Session, verdict: Verdict, now: datetime | None = None) -> None:
    """Store the verdict, replacing an earlier one on the same rule and article."""
    now = now or utcnow()
    values = {
        "rule_id": verdict.rule_id,
        "story_id": verdict.story_id,
        "article_id": verdict.article_id,
        "citation": verdict.citation,
        "verdict": verdict.verdict,
        "note": verdict.note,
        "sentences": list(verdict.sentences),
        "created": now,
        "updated": now,
    }
    insert = insert_for(session)
    statement = insert(VerdictRow.__table__).values(**values)
    changed = ("story_id", "citation", "verdict", "note", "sentences", "updated")
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["rule_id", "article_id"],
            set_={name: statement.excluded[name] for name in changed},
        )
    )


def story_verdicts(session: Session, story_id: str) -> dict[tuple[str, int], VerdictRow]:
    """The story's verdicts by (rule, article id)."""
    rows = session.exec(select(VerdictRow).where(VerdictRow.story_id == story_id)).all()
    return {(row.rule_id, row.article_id): row for row in rows}


def verdict_counts(session: Session, rules: Sequence[str] = ()) -> dict[str, Counter[str]]:
    """Verdicts per rule, each a count per verdict."""
    query = select(VerdictRow.rule_id, VerdictRow.verdict)
    if rules:
        query = query.where(col(VerdictRow.rule_id).in_(list(rules)))
    counts: dict[str, Counter[str]] = {}
    for rule_id, verdict in session.exec(query).all():
        counts.setdefault(rule_id, Counter())[verdict] += 1
    return counts


def rule_verdicts(session: Session, rules: Sequence[str] = ()) -> list[VerdictRow]:
    """Every verdict (on these rules), oldest first: what ``feedback export`` turns into
    examples."""
    query = select(VerdictRow)
    if rules:
        query = query.where(col(VerdictRow.rule_id).in_(list(rules)))
    return list(session.exec(query.order_by(VerdictRow.created, VerdictRow.id)).all())


def judged_articles(
    session: Session, rules: Sequence[str] = ()
) -> list[tuple[VerdictRow, ArticleRow | None]]:
    """Every verdict (on these rules), oldest first, with its article, or None when the
    article has been pruned since: what ``feedback export --corpus`` turns into labelled
    reports."""
    query = select(VerdictRow, ArticleRow).join(
        ArticleRow, col(ArticleRow.id) == col(VerdictRow.article_id), isouter=True
    )
    if rules:
        query = query.where(col(VerdictRow.rule_id).in_(list(rules)))
    rows = session.exec(query.order_by(VerdictRow.created, VerdictRow.id)).all()
    return [(verdict, article) for verdict, article in rows]


def precision(counts: Counter[str]) -> float | None:
    """The share of judged citations that were relevant; None before any verdict."""
    judged = counts[RELEVANT] + counts[NOT_RELEVANT]
    return counts[RELEVANT] / judged if judged else None
