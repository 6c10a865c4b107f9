"""Analysts' merges and splits of stories: who did what, when, and what moved.

Each edit is one row, numbered in the order edits commit (they are written under the ingest
lock, like every story write). The number is also what replicas sync on: a story index that
has seen edits up to ``seq`` re-reads the stories of the later ones, since a merge or a split
changes a story's centroid without bringing it a newer article (which is all
``story_vectors.last_article`` tells a replica).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, func, or_, select

from monitor.store.tables import NotificationRow, utcnow

MERGE = "merge"  # story_id took in every report of other_story, which is gone
SPLIT = "split"  # article_id left story_id and started other_story


class StoryEditRow(SQLModel, table=True):
    __tablename__ = "story_edits"
    id: int | None = Field(default=None, primary_key=True)  # the order edits committed in
    action: str = MERGE  # merge | split
    story_id: str = Field(index=True)  # the story merged into, or the one split
    other_story: str = Field(default="", index=True)  # the story merged in, or the new one
    article_id: int | None = None  # the article a split moved
    analyst: str = ""
    note: str = ""
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON))  # what moved
    created: datetime = Field(default_factory=utcnow)


@dataclass(slots=True)
class StoryEdit:
    seq: int
    action: str
    story_id: str
    other_story: str
    article_id: int | None
    analyst: str
    note: str
    created: datetime
    detail: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "seq": self.seq,
            "action": self.action,
            "story": self.story_id,
            "other_story": self.other_story,
            "article": self.article_id,
            "analyst": self.analyst,
            "note": self.note,
            "at": self.created.isoformat(),
            "detail": self.detail,
        }


def _edit(row: StoryEditRow) -> StoryEdit:
    assert row.id is not None
    return StoryEdit(
        row.id,
        row.action,
        row.story_id,
        row.other_story,
        row.article_id,
        row.analyst,
        row.note,
        row.created,
        dict(row.detail or {}),
    )


def start_edit(
    session: Session, action: str, story_id: str, analyst: str, note: str, now: datetime
) -> StoryEditRow:
    """The edit's row, flushed so its number is known (a split names its new story by it);
    :func:`finish_edit` fills in the rest once the edit is done."""
    row = StoryEditRow(action=action, story_id=story_id, analyst=analyst, note=note, created=now)
    session.add(row)
    session.flush()
    return row


def finish_edit(
    session: Session, row: StoryEditRow, other_story: str, article_id: int | None, detail: dict
) -> StoryEdit:
    row.other_story, row.article_id, row.detail = other_story, article_id, detail
    session.add(row)
    session.flush()
    return _edit(row)


def edits_after(session: Session, seq: int) -> list[StoryEdit]:
    """Edits committed after edit ``seq``, oldest first: what a replica has not applied."""
    rows = session.exec(
        select(StoryEditRow).where(col(StoryEditRow.id) > seq).order_by(col(StoryEditRow.id))
    ).all()
    return [_edit(row) for row in rows]


def latest_edit(session: Session) -> int:
    return session.exec(select(func.max(StoryEditRow.id))).one() or 0


def story_edits(session: Session, story_ids: Sequence[str]) -> list[StoryEdit]:
    """Every edit that names one of these stories, on either side, oldest first."""
    wanted = list(story_ids)
    rows = session.exec(
        select(StoryEditRow)
        .where(
            or_(col(StoryEditRow.story_id).in_(wanted), col(StoryEditRow.other_story).in_(wanted))
        )
        .order_by(col(StoryEditRow.id))
    ).all()
    return [_edit(row) for row in rows]


def merged_into(session: Session, story_id: str) -> StoryEdit | None:
    """The merge that ended ``story_id``, if one did."""
    row = session.exec(
        select(StoryEditRow).where(
            StoryEditRow.action == MERGE, StoryEditRow.other_story == story_id
        )
    ).first()
    return None if row is None else _edit(row)


def merges_untold(session: Session, story_id: str, channel: str) -> list[StoryEdit]:
    """The merges into ``story_id`` made since ``channel`` was last sent a message about the
    story (every one, if it never was), oldest first: what its next message has to explain."""
    query = select(StoryEditRow).where(
        StoryEditRow.action == MERGE, StoryEditRow.story_id == story_id
    )
    last = session.exec(
        select(func.max(NotificationRow.sent)).where(
            NotificationRow.story_id == story_id, NotificationRow.channel == channel
        )
    ).one()
    if last is not None:
        query = query.where(StoryEditRow.created > last)
    return [_edit(row) for row in session.exec(query.order_by(col(StoryEditRow.id))).all()]


def alert_moves(session: Session, hows: Collection[str]) -> dict[str, tuple[StoryEdit, dict]]:
    """For each alert that citations left in one of the ways ``hows``, the latest edit that
    moved them, with its record of the move. Edits are analysts' actions, a few a day, so
    they are read whole, once, and the moves looked up here."""
    rows = session.exec(select(StoryEditRow).order_by(col(StoryEditRow.id))).all()
    found: dict[str, tuple[StoryEdit, dict]] = {}
    for row in rows:
        for move in (row.detail or {}).get("alerts", []):
            if move.get("how") in hows and move.get("from"):
                found[move["from"]] = (_edit(row), move)
    return found
