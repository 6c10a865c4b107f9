"""Stories: read one, write a batch's new and grown stories together, or touch one by id.

Story assignment works on plain :class:`StoryRecord` objects, not rows of the session, so what
it changes reaches the store only through :func:`write_stories`, in a few statements a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from monitor.store.tables import StoryRow, utcnow


@dataclass(slots=True)
class StoryRecord:
    """A story as plain data. ``stored`` holds the values it was read with (None for a story
    not yet stored), so that only a story that changed is written back."""

    id: str
    headline: str
    first_published: datetime
    last_published: datetime
    stored: tuple[str, datetime, datetime] | None = field(default=None, repr=False)

    def _values(self) -> tuple[str, datetime, datetime]:
        return self.headline, self.first_published, self.last_published


def find_story(session: Session, story_id: str) -> StoryRecord | None:
    row = session.exec(
        select(StoryRow.headline, StoryRow.first_published, StoryRow.last_published).where(
            StoryRow.id == story_id
        )
    ).first()
    if row is None:
        return None
    headline, first, last = row
    return StoryRecord(story_id, headline, first, last, stored=(headline, first, last))


def write_stories(session: Session, stories: Iterable[StoryRecord]) -> None:
    """Insert the new stories in one statement and update those that changed in another."""
    now = utcnow()
    new, changed = [], []
    for story in stories:
        if story.stored is None:
            new.append(
                {
                    "id": story.id,
                    "headline": story.headline,
                    "first_published": story.first_published,
                    "last_published": story.last_published,
                    "created": now,
                }
            )
        elif story._values() != story.stored:
            changed.append(
                {
                    "story": story.id,
                    "headline": story.headline,
                    "first_published": story.first_published,
                    "last_published": story.last_published,
                }
            )
    if new:
        session.execute(insert(StoryRow.__table__), new)
    if changed:
        table = StoryRow.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("story"))
            .values(
                headline=bindparam("headline"),
                first_published=bindparam("first_published"),
                last_published=bindparam("last_published"),
            ),
            changed,
        )


def touch_story(session: Session, story_id: str, headline: str, now: datetime) -> None:
    """Create the story, or give it a new headline and ``now`` as its latest report: a story
    that is not made of articles (a feed's health) is kept this way."""
    row = session.get(StoryRow, story_id)
    if row is None:
        row = StoryRow(id=story_id, headline=headline, first_published=now, last_published=now)
    row.headline, row.last_published = headline, now
    session.add(row)


def story_headlines(session: Session, story_ids: Sequence[str]) -> dict[str, str]:
    rows = session.exec(select(StoryRow).where(col(StoryRow.id).in_(list(story_ids)))).all()
    return {row.id: row.headline for row in rows}
