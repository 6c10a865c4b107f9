"""Alerts remember the revision the outbox was given.

Revision ID: 0004
Revises: 0003
Created: 2026-12-01

A daemon that stops (or dies) between storing a new source and writing its notification rows
left that revision unannounced until something else changed the alert. ``queued`` tells the
next cycle which alerts have revisions the outbox has not seen, without offering every recent
alert again (which would also send them to a route added since). Existing alerts were queued
when they changed, so they start at their revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("queued", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE alerts SET queued = revision")


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("queued")
