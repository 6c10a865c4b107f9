"""The event matcher's tables: word counts, story centroids and article vectors.

Revision ID: 0007
Revises: 0006
Created: 2026-12-03

Stories are now matched by TF-IDF similarity to a story's centroid (issue #13). ``term_counts``
holds how many articles used each word, faded with age, which says how telling a word is;
``story_vectors`` each story's centroid, vessels and dates, which replicas sync their index
from; ``article_vectors`` each article's vector and why it joined its story. Stories made
before this revision have no vector: new reports start new stories beside them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "term_counts",
        sa.Column("term", sa.String(), primary_key=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_term_counts_seq", "term_counts", ["seq"])
    op.create_table(
        "story_vectors",
        sa.Column("story_id", sa.String(), primary_key=True),
        sa.Column("centroid", sa.JSON(), nullable=True),
        sa.Column("vessels", sa.JSON(), nullable=True),
        sa.Column("first_dated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_dated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("last_article", sa.Integer(), nullable=False),
    )
    op.create_index("ix_story_vectors_last_dated", "story_vectors", ["last_dated"])
    op.create_index("ix_story_vectors_last_article", "story_vectors", ["last_article"])
    op.create_table(
        "article_vectors",
        sa.Column("article_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("story_id", sa.String(), nullable=False),
        sa.Column("vector", sa.JSON(), nullable=True),
        sa.Column("vessels", sa.JSON(), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("shared", sa.JSON(), nullable=True),
    )
    op.create_index("ix_article_vectors_story_id", "article_vectors", ["story_id"])


def downgrade() -> None:
    op.drop_table("article_vectors")
    op.drop_table("story_vectors")
    op.drop_table("term_counts")
