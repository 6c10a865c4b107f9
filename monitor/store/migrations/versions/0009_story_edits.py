"""Analysts' merges and splits of stories, numbered in the order they commit.

Revision ID: 0009
Revises: 0008
Created: 2026-12-04

``monitor stories merge`` and ``split`` (issue #13) record each edit here: which stories, the
article a split moved, who and when, and what moved with it. Replicas read the edits after the
last one they saw and re-read those stories' centroids, so none keeps a merged story's or a
split story's stale centroid in its index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "story_edits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("story_id", sa.String(), nullable=False),
        sa.Column("other_story", sa.String(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("analyst", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("story_id", "other_story"):
        op.create_index(f"ix_story_edits_{column}", "story_edits", [column])


def downgrade() -> None:
    op.drop_table("story_edits")
