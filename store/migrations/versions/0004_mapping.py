"""Mapping by hand: the undoable history of map changes, and the evidence for suggestions
(a tenant's domain and external id on usage, the company's website on PSA lines).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT = sa.String(400)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "map_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("vendor", TEXT, nullable=False),
        sa.Column("vendor_item_id", TEXT, nullable=False),
        sa.Column("before", sa.JSON()),
        sa.Column("after", sa.JSON()),
        sa.Column("made_by", sa.String(200), nullable=False),
        sa.Column("made_at", INSTANT, nullable=False),
        sa.Column("undoes", sa.String(32)),
    )
    op.create_index(
        op.f("ix_map_changes_made_by_action_id"), "map_changes", ["made_by", "action_id"]
    )
    with op.batch_alter_table("usage_lines") as batch:
        batch.add_column(sa.Column("account_domain", TEXT))
        batch.add_column(sa.Column("account_external_id", TEXT))
    with op.batch_alter_table("psa_lines") as batch:
        batch.add_column(sa.Column("account_website", TEXT))


def downgrade() -> None:
    with op.batch_alter_table("psa_lines") as batch:
        batch.drop_column("account_website")
    with op.batch_alter_table("usage_lines") as batch:
        batch.drop_column("account_external_id")
        batch.drop_column("account_domain")
    op.drop_index(op.f("ix_map_changes_made_by_action_id"), table_name="map_changes")
    op.drop_table("map_changes")
