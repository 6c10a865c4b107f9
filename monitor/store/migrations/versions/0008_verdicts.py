"""Analysts' verdicts on citations, for the console and `monitor feedback export`.

Revision ID: 0008
Revises: 0007
Created: 2026-12-03

One row per (rule, article): whether the cited source was relevant to the rule, an optional
note, and the cited sentences, which become the rule's examples.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rule_id", sa.String(), nullable=False),
        sa.Column("story_id", sa.String(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("citation", sa.String(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sentences", sa.JSON(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("rule_id", "article_id"),
    )
    for column in ("rule_id", "story_id", "article_id"):
        op.create_index(f"ix_verdicts_{column}", "verdicts", [column])


def downgrade() -> None:
    op.drop_table("verdicts")
