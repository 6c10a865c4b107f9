"""Outbox rows carry the token of the claim that holds them.

Revision ID: 0006
Revises: 0005
Created: 2026-12-02

A send can outlast its lease; another replica then takes the row over, and the first one's
late write of its outcome would overwrite the new holder's. Every claim now writes a fresh
``lease_token`` and the writes that renew or end the work are conditional on it (with the
owner), so a claim that was taken over writes nothing. Existing rows get 0: no claim yet.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(
            sa.Column("lease_token", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("lease_token")
