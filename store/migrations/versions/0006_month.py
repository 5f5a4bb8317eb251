"""The month summary: each decision keeps the card as its decider saw it (type, monthly value,
vendor, names) and the month it belongs to; a closed month keeps its figures, and the others
their figures as last worked out.

Decisions made before this revision take their month from when they were made (in UTC); their
card's type and value were not recorded, so they count as decisions without a value.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TEXT = sa.String(400)
INSTANT = sa.DateTime(timezone=True)
QUANTITY = sa.Numeric(18, 4).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("period", sa.String(7)))
        batch.add_column(sa.Column("card_type", sa.String(16)))
        batch.add_column(sa.Column("monthly_value", QUANTITY))
        batch.add_column(sa.Column("vendor", TEXT))
        batch.add_column(sa.Column("account_name", TEXT))
        batch.add_column(sa.Column("product_name", TEXT))
    month = (
        "to_char(made_at AT TIME ZONE 'UTC', 'YYYY-MM')"
        if op.get_bind().dialect.name == "postgresql"
        else "substr(made_at, 1, 7)"
    )
    op.execute(f"UPDATE decisions SET period = {month}")
    op.create_index(op.f("ix_decisions_period"), "decisions", ["period"])
    op.create_table(
        "month_closes",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("closed_by", sa.String(200), nullable=False),
        sa.Column("closed_at", INSTANT, nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
    )
    op.create_table(
        "month_figures",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("month_figures")
    op.drop_table("month_closes")
    op.drop_index(op.f("ix_decisions_period"), table_name="decisions")
    with op.batch_alter_table("decisions") as batch:
        for column in ("product_name", "account_name", "vendor", "monthly_value", "card_type"):
            batch.drop_column(column)
        batch.drop_column("period")
