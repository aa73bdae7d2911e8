"""Requests that wait for approval (/v2/requests): customer merges, later deletions.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("base_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("details", Json, nullable=False),
        sa.Column("comments", sa.String(255), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("modified_by", sa.String(100), nullable=True),
        sa.Column("modified_at", Timestamp, nullable=True),
        sa.Column("outcome", Json, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_requests")),
    )
    op.create_index("ix_requests_org_id_user_id", "requests", ["org_id", "user_id"])


def downgrade() -> None:
    op.drop_table("requests")
