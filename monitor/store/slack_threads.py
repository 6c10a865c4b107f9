"""Where a story's Slack thread lives, so follow-ups land as replies under the first message.

Slack names a message by its channel and ``ts``; a follow-up posts with ``thread_ts`` set to the
first message's ``ts``. The table is the migrations' (0001 creates it), like every other.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from monitor.store.db import Store


class SlackThread(SQLModel, table=True):
    __tablename__ = "slack_threads"
    channel: str = Field(primary_key=True)  # Slack's channel id as chat.postMessage answered
    story: str = Field(primary_key=True)
    ts: str


class SlackThreads:
    """The (channel, story) -> ts map of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, channel: str, story: str) -> str | None:
        with self.store.session() as session:
            row = session.get(SlackThread, (channel, story))
            return row.ts if row else None

    def remember(self, channel: str, story: str, ts: str) -> None:
        """Keep the first ``ts`` for a story; a later one never replaces it."""
        with self.store.session() as session:
            if session.get(SlackThread, (channel, story)) is None:
                session.add(SlackThread(channel=channel, story=story, ts=ts))
                session.commit()
