"""Moving reports between stories, for an analyst's merge or split: the articles, their
verdicts, the stories' rows and Slack threads.

The event matcher's vectors move with :mod:`monitor.store.story_vectors`, alerts and their
citations with :mod:`monitor.store.alerts`, outbox rows with :mod:`monitor.store.outbox_edits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from monitor.store.articles import set_stories
from monitor.store.slack_threads import SlackThread
from monitor.store.tables import ArticleRow, StoryRow
from monitor.store.verdicts import VerdictRow


@dataclass(frozen=True, slots=True)
class Member:
    """A report of a story: what a merge or a split needs of it."""

    id: int
    title: str
    dated: datetime


def story_reports(session: Session, story_id: str) -> list[Member]:
    """The story's reports, oldest first (by date, then by id)."""
    rows = session.exec(
        select(ArticleRow.id, ArticleRow.title, ArticleRow.dated)
        .where(ArticleRow.story_id == story_id)
        .order_by(col(ArticleRow.dated), col(ArticleRow.id))
    ).all()
    return [Member(article_id, title, dated) for article_id, title, dated in rows]


def article_story(session: Session, article_id: int) -> str | None:
    """The article's story id ("" for an article in none); None if there is no such article."""
    row = session.get(ArticleRow, article_id)
    return None if row is None else row.story_id or ""


def story_row(session: Session, story_id: str) -> StoryRow | None:
    return session.get(StoryRow, story_id)


def move_reports(session: Session, article_ids: Sequence[int], story_id: str) -> None:
    """Put these articles, and the verdicts on their citations, in ``story_id``."""
    ids = list(article_ids)
    set_stories(session, dict.fromkeys(ids, story_id))
    session.execute(
        update(VerdictRow).where(col(VerdictRow.article_id).in_(ids)).values(story_id=story_id)
    )


def reshape_story(
    session: Session, story_id: str, members: Sequence[Member], created: datetime
) -> StoryRow:
    """Write (or create) the story's row from its reports: its headline is the earliest
    report's title (as the matcher names a story), its dates the first and latest report's."""
    first = min(members, key=lambda m: (m.dated, m.id))
    row = session.get(StoryRow, story_id)
    if row is None:
        row = StoryRow(id=story_id, first_published=first.dated, last_published=first.dated)
        row.created = created
    row.headline = first.title or row.headline
    row.first_published = first.dated
    row.last_published = max(m.dated for m in members)
    session.add(row)
    session.flush()
    return row


def delete_story(session: Session, story_id: str) -> None:
    """Delete a story's row: a story merged into another has no reports left."""
    session.execute(delete(StoryRow).where(col(StoryRow.id) == story_id))


def carry_slack_threads(session: Session, gone: str, into: str) -> int:
    """Where ``into`` has no Slack thread on a channel and ``gone`` has one, follow-ups of
    ``into`` go under ``gone``'s: the message the analysts read the merged story's alerts
    in. Returns how many threads were carried."""
    have = set(session.exec(select(SlackThread.channel).where(SlackThread.story == into)).all())
    carried = 0
    for thread in session.exec(select(SlackThread).where(SlackThread.story == gone)).all():
        if thread.channel not in have:
            session.add(SlackThread(channel=thread.channel, story=into, ts=thread.ts))
            carried += 1
    session.execute(delete(SlackThread).where(col(SlackThread.story) == gone))
    return carried
