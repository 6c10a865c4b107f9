"""Tables. Everything the daemon knows lives here, so a restart resumes from the store."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class FeedState(SQLModel, table=True):
    """What the poller remembers of a feed between polls, and its health."""

    __tablename__ = "feeds"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    url: str = ""
    title: str = ""
    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    last_polled: datetime | None = None
    next_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""
    consecutive_failures: int = 0
    items_seen: int = 0
    # Feeds added with `monitor feeds add/import` live here too: origin "added" or "opml"
    # (config feeds are "config" and are polled only while the config lists them).
    origin: str = "config"
    source: str = ""
    full_text: bool = True
    added: datetime | None = None
    first_polled: datetime | None = None
    interval: int | None = None  # learnt: shortened after a poll that was all new items
    overflows: int = 0  # polls whose every entry was new: items may have been missed
    last_new: datetime | None = None  # last poll that brought a new item
    rhythm: float = 0.0  # usual seconds between polls bringing new items (moving average)
    health_alert: str = ""  # the open feed-health alert's id, until the feed recovers
    # A replica polling the feed holds it until lease_until; another may take it after.
    lease_owner: str = ""
    lease_until: datetime | None = None


class ArticleRow(SQLModel, table=True):
    __tablename__ = "articles"
    # The dedup lookup is by (feed, guid): an index on feed alone made it scan a whole feed.
    __table_args__ = (Index("ix_articles_feed_external_id", "feed", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = ""  # looked up within its feed: ix_articles_feed_external_id
    feed: str = Field(default="")
    url: str = ""
    canonical_url: str = Field(default="", index=True)
    content_hash: str = Field(index=True)
    source: str = ""
    title: str = ""
    text: str = Field(default="", sa_column=Column(Text))
    published: datetime | None = None
    fetched: datetime = Field(default_factory=utcnow)
    dated: datetime = Field(default_factory=utcnow, index=True)  # published, else first seen
    story_id: str | None = Field(default=None, index=True)


class StoryRow(SQLModel, table=True):
    __tablename__ = "stories"
    id: str = Field(primary_key=True)
    headline: str = ""
    first_published: datetime = Field(index=True)
    last_published: datetime = Field(index=True)
    created: datetime = Field(default_factory=utcnow)


class AlertRow(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("rule_id", "story_id"),)
    id: str = Field(primary_key=True)
    rule_id: str = Field(index=True)
    story_id: str = Field(index=True)
    title: str = ""
    severity: str = "medium"
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    labels: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    rule_version: str = ""
    revision: int = 1
    queued: int = 0  # the revision the outbox was last given (see Service.notify)
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class CitationRow(SQLModel, table=True):
    __tablename__ = "citations"
    __table_args__ = (UniqueConstraint("alert_id", "article_id"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_id: str = Field(index=True)
    article_id: int = Field(index=True)
    rule_version: str = ""
    sentences: list[dict] = Field(default_factory=list, sa_column=Column(JSON))
    created: datetime = Field(default_factory=utcnow)


class NotificationRow(SQLModel, table=True):
    """The outbox: written before a channel is called, so a crash cannot lose a notification.

    One row is one message to one channel: a story's first notice, a follow-up, or a digest.
    ``alerts`` maps each alert it covers to the revisions it reports, [from, to): the
    citations numbered ``from`` and up are the new sources.
    """

    __tablename__ = "notifications"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # stable across retries and restarts: the idempotency key
    story_id: str = Field(default="", index=True)  # "" for a digest
    channel: str = Field(default="", index=True)
    kind: str = "new"  # new | update | digest
    alerts: dict[str, list[int]] = Field(default_factory=dict, sa_column=Column(JSON))
    state: str = Field(
        default="pending", index=True
    )  # pending | sent | failed | silenced | skipped
    attempts: int = 0
    next_attempt: datetime = Field(default_factory=utcnow, index=True)
    deadline: datetime | None = None  # retries stop here and the row is marked failed
    last_error: str = ""
    created: datetime = Field(default_factory=utcnow)
    sent: datetime | None = None
    # A replica sending the row holds it until lease_until, so only one sends it.
    lease_owner: str = ""
    lease_until: datetime | None = None
    # Written afresh by every claim: the writes that renew or end the work carry it (a fence),
    # so a claim that was taken over, even by the same owner, can no longer write.
    lease_token: int = Field(default=0, sa_type=BigInteger)


class SilenceRow(SQLModel, table=True):
    """A silence: matching alerts are recorded in the outbox as silenced, not sent."""

    __tablename__ = "silences"
    id: int | None = Field(default=None, primary_key=True)
    rule: str = ""
    story: str = ""
    match: str = ""  # text to find in the headline or a source's title or sentences
    reason: str = ""
    created: datetime = Field(default_factory=utcnow)
    ends: datetime = Field(index=True)
    expired: bool = False


class ReplicaRow(SQLModel, table=True):
    """One life of a daemon process: when it started, last showed signs of life, and whether
    it stopped cleanly, so a crash loop shows in the store, the logs and the metrics."""

    __tablename__ = "replicas"
    id: str = Field(primary_key=True)  # host:pid:random, also the lease owner
    host: str = ""
    pid: int = 0
    # Which process this was, beyond host and pid, which repeat across containers (every
    # daemon is pid 1) and hosts (compose ``hostname:``): boot id, pid namespace and the
    # process's start time. Only a life whose instance proves it gone is declared dead early.
    instance: str = ""
    version: str = ""
    started: datetime = Field(default_factory=utcnow, index=True)
    heartbeat: datetime = Field(default_factory=utcnow)
    stopped: datetime | None = None
    clean: bool = False


class ForgottenRow(SQLModel, table=True):
    """What remains of an article deleted by retention: enough to know it if a feed still
    lists it, so a pruned item never comes back as news."""

    __tablename__ = "forgotten"
    __table_args__ = (Index("ix_forgotten_feed_external_id", "feed", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    feed: str = ""
    external_id: str = ""
    canonical_url: str = Field(default="", index=True)
    content_hash: str = Field(default="", index=True)
    pruned: datetime = Field(default_factory=utcnow)


class ArticleFailureRow(SQLModel, table=True):
    """An article that could not be stored: retried at the next polls, then quarantined
    (skipped, and shown to operators), so one poisoned item never blocks the rest of its feed."""

    __tablename__ = "article_failures"
    __table_args__ = (UniqueConstraint("feed", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    feed: str = Field(default="", index=True)
    key: str = ""  # the item's guid, else its canonical URL, else the hash of its words
    title: str = ""
    url: str = ""
    attempts: int = 0
    error: str = ""
    first_failed: datetime = Field(default_factory=utcnow)
    last_failed: datetime = Field(default_factory=utcnow)
    quarantined: bool = False


class TermCountRow(SQLModel, table=True):
    """How many articles used a word, faded with age (monitor.detect.events.rarity): what makes
    a word telling. The row with term "" counts the articles themselves; ``seq`` is the batch
    that last changed the row, so a replica reads only what changed since it last looked."""

    __tablename__ = "term_counts"
    term: str = Field(primary_key=True)
    weight: float = 0.0
    seq: int = Field(default=0, index=True)


class TermCountBatchRow(SQLModel, table=True):
    """One batch's word counts, not yet added into ``term_counts`` (see
    :mod:`monitor.store.term_counts`): a row a batch instead of a row a word, JSON of word ->
    weight, numbered by the batch's ``seq``."""

    __tablename__ = "term_count_batches"
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    counts: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class StoryVectorRow(SQLModel, table=True):
    """What the event matcher knows of a story: the sum of its members' vectors, the vessels
    they name, and the dates of its first and latest reports."""

    __tablename__ = "story_vectors"
    story_id: str = Field(primary_key=True)
    centroid: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    vessels: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    first_dated: datetime
    last_dated: datetime = Field(index=True)
    members: int = 0
    last_article: int = Field(default=0, index=True)  # the newest member: what replicas sync on


class ArticleVectorRow(SQLModel, table=True):
    """Why an article is in its story: its vector, the vessels it names, and, if it joined a
    story rather than starting one, the similarity and the words they share."""

    __tablename__ = "article_vectors"
    article_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    story_id: str = Field(default="", index=True)
    vector: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    vessels: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    similarity: float | None = None  # None: the article started its story
    shared: list[list] = Field(default_factory=list, sa_column=Column(JSON))
