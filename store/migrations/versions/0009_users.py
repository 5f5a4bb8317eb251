"""Team use: local accounts and the role of each person who signs in.

A local account has a password hash; a person signing in through single sign-on (OpenID
Connect) has a row without one when an admin has given them a role.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(200), primary_key=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column(
            "role",
            sa.Enum(
                "viewer",
                "approver",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(400)),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("users")
