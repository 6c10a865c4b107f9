"""Drop the index on ``articles.external_id`` alone.

Revision ID: 0011
Revises: 0010
Created: 2026-12-03

An article is looked up by its guid within its feed, which ``ix_articles_feed_external_id``
serves; no query asks for a guid across feeds. The index on the guid alone was kept up to date
on every insert for nothing: one of seven indexes the writer's batch insert touches, at a page
each in a random place once a store holds a million articles (issue #15).
"""

from __future__ import annotations

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.drop_index("ix_articles_external_id", table_name="articles")


def downgrade() -> None:
    op.create_index("ix_articles_external_id", "articles", ["external_id"])
