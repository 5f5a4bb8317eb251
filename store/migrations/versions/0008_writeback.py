"""Background syncs, the write-back outbox and vendor commitments.

A sync run records the process running it, a heartbeat and its progress, so that the Sync page
can show it live and mark failed a run whose process died. The outbox holds one row per approved
change sent (or to send) to the PSA, with its idempotency key, what the approver saw, its state
and the last request and response. Commitments keep, per vendor usage snapshot, the seats a
vendor cannot reduce before a date (Microsoft NCE through Pax8 or Partner Center).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TEXT = sa.String(400)
USER = sa.String(200)
INSTANT = sa.DateTime(timezone=True)
QUANTITY = sa.Numeric(18, 4).with_variant(sa.BigInteger(), "sqlite")
STATE = sa.Enum(
    "pending",
    "applied",
    "noop",
    "conflict",
    "rejected",
    "failed",
    "unknown",
    "exported",
    name="write_back_state",
    native_enum=False,
    create_constraint=True,
    length=16,
)


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("pid", sa.Integer()))
        batch.add_column(sa.Column("host", sa.String(200)))
        batch.add_column(sa.Column("heartbeat_at", INSTANT))
        batch.add_column(sa.Column("progress", sa.JSON()))
    op.create_table(
        "write_backs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("decisions.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("account_id", TEXT, nullable=False),
        sa.Column("product_id", TEXT, nullable=False),
        sa.Column("contract_id", TEXT),
        sa.Column("line_id", TEXT),
        sa.Column("expected_quantity", QUANTITY),
        sa.Column("new_quantity", QUANTITY, nullable=False),
        sa.Column("effective_date", sa.Date()),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sent_at", INSTANT),
        sa.Column("finished_at", INSTANT),
        sa.Column("applied_quantity", QUANTITY),
        sa.Column("new_line_id", TEXT),
        sa.Column("message", sa.Text()),
        sa.Column("request", sa.JSON()),
        sa.Column("response", sa.JSON()),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("made_by", USER, nullable=False),
        sa.UniqueConstraint("decision_id", name="uq_write_backs_decision_id"),
    )
    op.create_index("ix_write_backs_state", "write_backs", ["state"])
    op.create_table(
        "commitment_lines",
        sa.Column("sync_run_id", sa.Integer(), sa.ForeignKey("sync_runs.id"), primary_key=True),
        sa.Column("row", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("vendor", TEXT),
        sa.Column("account_id", TEXT),
        sa.Column("product_id", TEXT),
        sa.Column("commitment_end", sa.Date()),
        sa.Column("quantity", QUANTITY),
    )


def downgrade() -> None:
    op.drop_table("commitment_lines")
    op.drop_index("ix_write_backs_state", table_name="write_backs")
    op.drop_table("write_backs")
    with op.batch_alter_table("sync_runs") as batch:
        for column in ("progress", "heartbeat_at", "host", "pid"):
            batch.drop_column(column)
