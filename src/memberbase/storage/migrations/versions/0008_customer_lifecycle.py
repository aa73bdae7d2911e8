"""The customer after registration: a version per customer, merges, the status log, and the
answers kept for retried writes (Idempotency-Key).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("version", sa.BigInteger(), server_default="1", nullable=False))
        batch.add_column(sa.Column("merged_into", sa.BigInteger(), nullable=True))
    op.create_table(
        "status_log",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("previous_label", sa.String(100), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_on", Timestamp, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("user_context", Json, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_status_log")),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_status_log_org_id_customers"),
        ),
    )
    op.create_index(
        "ix_status_log_org_id_customer_id_created_on", "status_log", ["org_id", "customer_id", "created_on"]
    )
    op.create_table(
        "merges",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("survivor_id", sa.BigInteger(), nullable=False),
        sa.Column("victim_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("till_code", sa.String(100), nullable=False),
        sa.Column("user_context", Json, nullable=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", Timestamp, nullable=False),
        sa.Column("moved", Json, nullable=False),
        sa.Column("undone_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_merges")),
        sa.ForeignKeyConstraint(
            ["org_id", "survivor_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_merges_org_id_customers"),
        ),
    )
    op.create_index("ix_merges_org_id_survivor_id", "merges", ["org_id", "survivor_id"])
    op.create_index("ix_merges_org_id_victim_id", "merges", ["org_id", "victim_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_org_id_expires_at", "idempotency_keys", ["org_id", "expires_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("merges")
    op.drop_table("status_log")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("merged_into")
        batch.drop_column("version")
