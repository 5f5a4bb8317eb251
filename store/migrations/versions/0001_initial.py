"""Sources, sync runs and their snapshots, maps, decisions, the audit log and settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A migration spells its types out rather than importing the models' (which later change).
QUANTITY = sa.Numeric(18, 4).with_variant(sa.BigInteger(), "sqlite")
INSTANT = sa.DateTime(timezone=True)
TEXT = sa.String(400)
USER = sa.String(200)


def closed(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", closed("source_kind", "psa", "vendor"), nullable=False),
        sa.Column("distributor", sa.String(200)),
        sa.Column("columns", sa.JSON()),
        sa.Column("decimal_comma", sa.Boolean(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("sources.id"), nullable=False),
        sa.Column("mode", closed("sync_mode", "quick", "full", "csv"), nullable=False),
        sa.Column("status", closed("sync_status", "running", "ok", "failed"), nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.Column("finished_at", INSTANT),
        sa.Column("file_name", sa.String(400)),
        sa.Column("rows_read", sa.Integer()),
        sa.Column("rows_stored", sa.Integer()),
        sa.Column("vendors", sa.JSON()),
        sa.Column("warnings", sa.JSON()),
        sa.Column("error", sa.Text()),
        sa.Column("made_by", USER, nullable=False),
        sa.Column("pruned", sa.Boolean(), nullable=False),
    )
    op.create_index(op.f("ix_sync_runs_source_id_status"), "sync_runs", ["source_id", "status"])
    op.create_table(
        "psa_lines",
        *_snapshot_key(),
        sa.Column("account_id", TEXT),
        sa.Column("account_name", TEXT),
        sa.Column("contract_id", TEXT),
        sa.Column("contract_name", TEXT),
        sa.Column("product_id", TEXT),
        sa.Column("product_name", TEXT),
        sa.Column("line_id", TEXT),
        sa.Column("quantity", QUANTITY),
        sa.Column("unit_price", QUANTITY),
        sa.Column("unit_cost", QUANTITY),
        sa.Column("prorate", sa.Boolean()),
        sa.Column("billing_months", sa.Integer()),
    )
    op.create_table(
        "usage_lines",
        *_snapshot_key(),
        sa.Column("vendor", TEXT),
        sa.Column("distributor", TEXT),
        sa.Column("account_id", TEXT),
        sa.Column("account_name", TEXT),
        sa.Column("product_id", TEXT),
        sa.Column("product_name", TEXT),
        sa.Column("quantity", QUANTITY),
        sa.Column("unit_cost", QUANTITY),
        sa.Column("billing_term", TEXT),
        sa.Column("status", TEXT),
    )
    for kind in ("account", "product"):
        op.create_table(
            f"{kind}_maps",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("vendor", TEXT, nullable=False),
            sa.Column(f"vendor_{kind}_id", TEXT, nullable=False),
            sa.Column(f"psa_{kind}_id", TEXT),
            sa.Column("excluded", sa.Boolean(), nullable=False),
            sa.Column("reason", sa.Text()),
            sa.Column("auto", sa.Boolean(), nullable=False),
            sa.Column("made_by", USER, nullable=False),
            sa.Column("made_at", INSTANT, nullable=False),
            sa.UniqueConstraint("vendor", f"vendor_{kind}_id"),
        )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", TEXT, nullable=False),
        sa.Column("product_id", TEXT, nullable=False),
        sa.Column(
            "action", closed("action", "approve", "dismiss", "schedule", "undo"), nullable=False
        ),
        sa.Column("psa_quantity", QUANTITY),
        sa.Column("vendor_quantity", QUANTITY),
        sa.Column("effective_date", sa.Date()),
        sa.Column("made_by", USER, nullable=False),
        sa.Column("made_at", INSTANT, nullable=False),
        sa.Column("bulk_id", sa.String(32), nullable=False),
        sa.Column("undoes_id", sa.Integer(), sa.ForeignKey("decisions.id")),
        sa.Column(
            "write_back",
            closed(
                "write_back",
                *("pending", "applied", "noop", "conflict", "rejected", "failed", "unknown"),
                "exported",
            ),
        ),
    )
    op.create_index(
        op.f("ix_decisions_account_id_product_id"), "decisions", ["account_id", "product_id"]
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("made_by", USER, nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def _snapshot_key() -> list[sa.Column[int]]:
    # Rows cluster by sync run: a snapshot is read, and pruned, as one range of the key.
    return [
        sa.Column("sync_run_id", sa.Integer(), sa.ForeignKey("sync_runs.id"), primary_key=True),
        sa.Column("row", sa.Integer(), primary_key=True, autoincrement=False),
    ]


def downgrade() -> None:
    for table in (
        "settings",
        "audit_log",
        "decisions",
        "product_maps",
        "account_maps",
        "usage_lines",
        "psa_lines",
        "sync_runs",
        "sources",
    ):
        op.drop_table(table)
