"""Leases and replicas: several daemons may share one store.

Revision ID: 0002
Revises: 0001
Created: 2026-12-02

A replica polling a feed or sending a notification holds its row until ``lease_until``, so two
replicas never do the same work; ``replicas`` records each daemon process's life. Existing rows
get ``lease_owner`` '' through the server default (no one holds them) and no ``lease_until``.

Adoption of a database made before migrations replays these operations too, because the last
create_all version (commit 0f6c4a1) already made some of them; keep them plain op calls.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

LEASED = ("feeds", "notifications")


def upgrade() -> None:
    for table in LEASED:
        op.add_column(
            table, sa.Column("lease_owner", sa.String(), nullable=False, server_default="")
        )
        op.add_column(table, sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "replicas",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clean", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_replicas_started", "replicas", ["started"])


def downgrade() -> None:
    op.drop_table("replicas")
    for table in LEASED:
        # Batch mode copies the table on SQLite builds too old to drop a column in place.
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_until")
            batch.drop_column("lease_owner")
