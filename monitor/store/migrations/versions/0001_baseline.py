"""Baseline: the tables create_all made before migrations existed (commit f33182e).

Revision ID: 0001
Revises:
Created: 2026-12-02

The tables of monitor/store/tables.py at that commit, and the Slack channel's
``slack_threads``. Every table, index and unique constraint is spelt the way create_all spelt
it (the index names are SQLModel's ``ix_<table>_<column>``), so a database made by create_all
and one made by this revision are the same, and monitor.store.migrate can adopt the former by
creating only what it lacks. That adoption replays these operations one by one, so this
revision must stay a plain list of op.create_table and op.create_index calls.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    # SQLModel maps ``datetime`` to its UTCDateTime, DateTime(timezone=True): TIMESTAMP WITH
    # TIME ZONE on PostgreSQL, DATETIME on SQLite.
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("etag", sa.String(), nullable=False),
        sa.Column("last_modified", sa.String(), nullable=False),
        sa.Column("body_hash", sa.String(), nullable=False),
        sa.Column("last_polled", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_poll", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("items_seen", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("full_text", sa.Boolean(), nullable=False),
        sa.Column("added", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_polled", sa.DateTime(timezone=True), nullable=True),
        sa.Column("interval", sa.Integer(), nullable=True),
        sa.Column("overflows", sa.Integer(), nullable=False),
        sa.Column("last_new", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rhythm", sa.Float(), nullable=False),
        sa.Column("health_alert", sa.String(), nullable=False),
    )
    # Field(index=True, unique=True) makes a unique index, not a unique constraint.
    op.create_index("ix_feeds_name", "feeds", ["name"], unique=True)

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("feed", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("canonical_url", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("story_id", sa.String(), nullable=True),
    )
    op.create_index("ix_articles_external_id", "articles", ["external_id"])
    op.create_index("ix_articles_dated", "articles", ["dated"])
    op.create_index("ix_articles_content_hash", "articles", ["content_hash"])
    op.create_index("ix_articles_canonical_url", "articles", ["canonical_url"])
    op.create_index("ix_articles_feed_external_id", "articles", ["feed", "external_id"])
    op.create_index("ix_articles_story_id", "articles", ["story_id"])

    op.create_table(
        "stories",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("headline", sa.String(), nullable=False),
        sa.Column("first_published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_stories_first_published", "stories", ["first_published"])
    op.create_index("ix_stories_last_published", "stories", ["last_published"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("rule_id", sa.String(), nullable=False),
        sa.Column("story_id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=True),
        sa.Column("rule_version", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        # Unnamed, as in the model: PostgreSQL names it alerts_rule_id_story_id_key.
        sa.UniqueConstraint("rule_id", "story_id"),
    )
    op.create_index("ix_alerts_rule_id", "alerts", ["rule_id"])
    op.create_index("ix_alerts_story_id", "alerts", ["story_id"])

    op.create_table(
        "citations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.String(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("rule_version", sa.String(), nullable=False),
        sa.Column("sentences", sa.JSON(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("alert_id", "article_id"),
    )
    op.create_index("ix_citations_alert_id", "citations", ["alert_id"])
    op.create_index("ix_citations_article_id", "citations", ["article_id"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("story_id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("alerts", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=True),
        # Field(unique=True) without index=True makes a unique constraint, not an index.
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_notifications_story_id", "notifications", ["story_id"])
    op.create_index("ix_notifications_next_attempt", "notifications", ["next_attempt"])
    op.create_index("ix_notifications_state", "notifications", ["state"])
    op.create_index("ix_notifications_channel", "notifications", ["channel"])

    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("story", sa.String(), nullable=False),
        sa.Column("match", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expired", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_silences_ends", "silences", ["ends"])

    # Defined in monitor/store/slack_threads.py, not tables.py, and made on first use (or by
    # create_all once that module was imported), so an old database may lack it.
    op.create_table(
        "slack_threads",
        sa.Column("channel", sa.String(), primary_key=True),
        sa.Column("story", sa.String(), primary_key=True),
        sa.Column("ts", sa.String(), nullable=False),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes with it, on SQLite and PostgreSQL alike.
    for table in (
        "slack_threads",
        "silences",
        "notifications",
        "citations",
        "alerts",
        "stories",
        "articles",
        "feeds",
    ):
        op.drop_table(table)
