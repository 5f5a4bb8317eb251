"""The PSA's product catalogue, kept as its own kind of snapshot of the PSA source.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

QUANTITY = sa.Numeric(18, 4).with_variant(sa.BigInteger(), "sqlite")
TEXT = sa.String(400)
KIND = sa.Enum(
    "psa",
    "usage",
    "catalog",
    name="snapshot_kind",
    native_enum=False,
    create_constraint=True,
    length=16,
)


def upgrade() -> None:
    # Every run so far holds what its source syncs: PSA lines or vendor usage.
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("kind", KIND, nullable=True))
    op.execute(
        "UPDATE sync_runs SET kind = CASE WHEN source_id IN "
        "(SELECT id FROM sources WHERE kind = 'psa') THEN 'psa' ELSE 'usage' END"
    )
    with op.batch_alter_table("sync_runs") as batch:
        batch.alter_column("kind", existing_type=KIND, nullable=False)
    op.create_table(
        "catalog_lines",
        sa.Column("sync_run_id", sa.Integer(), sa.ForeignKey("sync_runs.id"), primary_key=True),
        sa.Column("row", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("product_id", TEXT),
        sa.Column("product_name", TEXT),
        sa.Column("unit_price", QUANTITY),
        sa.Column("unit_cost", QUANTITY),
        sa.Column("billing_months", sa.Integer()),
    )


def downgrade() -> None:
    op.drop_table("catalog_lines")
    # Catalogue runs have no meaning without their rows.
    op.execute("DELETE FROM sync_runs WHERE kind = 'catalog'")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_constraint(op.f("ck_sync_runs_snapshot_kind"), type_="check")
        batch.drop_column("kind")
