"""Forgotten articles: what retention keeps of an article it deletes.

Revision ID: 0003
Revises: 0002
Created: 2026-12-02

A pruned article leaves its feed, guid, canonical URL and content hash in ``forgotten``, so a
feed still listing the item does not bring it back as news. A new table, so no existing rows
need values.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "forgotten",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("feed", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("canonical_url", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("pruned", sa.DateTime(timezone=True), nullable=False),
    )
    # The lookups the pipeline makes before it treats an item as new, as on ``articles``.
    op.create_index("ix_forgotten_feed_external_id", "forgotten", ["feed", "external_id"])
    op.create_index("ix_forgotten_canonical_url", "forgotten", ["canonical_url"])
    op.create_index("ix_forgotten_content_hash", "forgotten", ["content_hash"])


def downgrade() -> None:
    op.drop_table("forgotten")
