"""Decisions on cards: the contract of an approved change, the card locks that make two people
deciding one card at once decide one after the other, and per-user preferences.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TEXT = sa.String(400)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("contract_id", TEXT))
    op.create_index(op.f("ix_decisions_undoes_id"), "decisions", ["undoes_id"])
    op.create_table(
        "card_locks",
        sa.Column("account_id", TEXT, primary_key=True),
        sa.Column("product_id", TEXT, primary_key=True),
        sa.Column("bulk_id", sa.String(32), nullable=False),
        sa.Column("made_by", sa.String(200), nullable=False),
        sa.Column("made_at", INSTANT, nullable=False),
    )
    op.create_table(
        "user_prefs",
        sa.Column("username", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_prefs")
    op.drop_table("card_locks")
    op.drop_index(op.f("ix_decisions_undoes_id"), table_name="decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("contract_id")
