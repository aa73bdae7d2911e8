"""Subscriptions per channel, priority and source account, and the append-only consent log.

The consent log is evidence: the database refuses UPDATE and DELETE on it, as on audit_log.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)
_MESSAGE = "consent_log is append-only"


def _customer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id", "customer_id"],
        ["customers.org_id", "customers.id"],
        name=op.f(f"fk_{table}_org_id_customers"),
    )


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        _customer_fk("subscriptions"),
        sa.PrimaryKeyConstraint(
            "org_id",
            "customer_id",
            "channel",
            "priority",
            "source",
            "account_id",
            name=op.f("pk_subscriptions"),
        ),
    )
    op.create_table(
        "consent_log",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("previous", sa.Boolean(), nullable=True),
        sa.Column("occurred_at", Timestamp, nullable=False),
        sa.Column("via", sa.String(32), nullable=False),
        sa.Column("till_code", sa.String(50), nullable=False),
        sa.Column("api_client", sa.String(100), nullable=True),
        sa.Column("user_context", Json, nullable=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("consent_text", sa.String(2000), nullable=True),
        sa.Column("consent_version", sa.String(100), nullable=True),
        sa.Column("details", Json, nullable=False),
        _customer_fk("consent_log"),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_consent_log")),
    )
    op.create_index("ix_consent_log_org_id_customer_id", "consent_log", ["org_id", "customer_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("consent_log_id_seq")))
        op.execute(
            f"""
            CREATE FUNCTION consent_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{_MESSAGE}';
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER consent_log_append_only BEFORE UPDATE OR DELETE ON consent_log "
            "FOR EACH ROW EXECUTE FUNCTION consent_log_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER consent_log_no_{action.lower()} BEFORE {action} ON consent_log "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER consent_log_append_only ON consent_log")
        op.execute("DROP FUNCTION consent_log_append_only()")
        op.execute(sa.schema.DropSequence(sa.Sequence("consent_log_id_seq")))
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER consent_log_no_{action}")
    op.drop_index("ix_consent_log_org_id_customer_id", table_name="consent_log")
    op.drop_table("consent_log")
    op.drop_table("subscriptions")
