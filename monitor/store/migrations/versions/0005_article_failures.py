"""Failed articles are quarantined; daemon lives say which process they were.

Revision ID: 0005
Revises: 0004
Created: 2026-12-02

``article_failures`` remembers items that raised while being stored, so that after a few
attempts they are skipped (and shown) instead of blocking their feed at every poll.
``replicas.instance`` identifies a process beyond host and pid, which repeat across
containers; old lives get "" and are never declared dead by it, only by their silence.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "article_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("feed", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column("first_failed", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("feed", "key"),
    )
    op.create_index("ix_article_failures_feed", "article_failures", ["feed"])
    with op.batch_alter_table("replicas") as batch:
        batch.add_column(sa.Column("instance", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("replicas") as batch:
        batch.drop_column("instance")
    op.drop_table("article_failures")
