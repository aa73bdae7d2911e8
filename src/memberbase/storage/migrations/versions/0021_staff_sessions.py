"""Member Care sessions: one row per staff login, found by a hash of the cookie's token; and
an index that finds one customer's events (the console's "events sent", the export).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("org_id", "token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index("ix_outbox_org_id_customer_id_id", "outbox", ["org_id", "customer_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_org_id_customer_id_id", table_name="outbox")
    op.drop_table("staff_sessions")
