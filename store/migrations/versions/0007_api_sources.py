"""API sources: a source's type (csv or an API connector), its settings, its secrets encrypted,
and the cursor its next quick sync starts from.

Sources made before this revision are CSV sources.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("type", sa.String(40), nullable=False, server_default="csv"))
        batch.add_column(sa.Column("settings", sa.JSON()))
        batch.add_column(sa.Column("secrets", sa.Text()))
        batch.add_column(sa.Column("sync_cursor", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        for column in ("sync_cursor", "secrets", "settings", "type"):
            batch.drop_column(column)
