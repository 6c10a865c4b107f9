"""Word counts written a batch at a time, and added into ``term_counts`` every few batches.

Revision ID: 0010
Revises: 0009
Created: 2026-12-03

A feed's batch used to add a row a word to ``term_counts`` (a couple of thousand upserts, the
writer's largest statement). Each batch now writes one row here, and every ``FOLD_EVERY``
batches the writer adds them into ``term_counts`` at once, where a word that many batches used
is one upsert (issue #15).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "term_count_batches",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("counts", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("term_count_batches")
