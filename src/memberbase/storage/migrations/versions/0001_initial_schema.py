"""Initial schema: orgs, tills, customers, identifiers, enrolments, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:59:33.749621
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Customer ids: one numeric id space across orgs, as the hosted API has.
        op.execute(sa.schema.CreateSequence(sa.Sequence("customer_id_seq")))
    op.create_table(
        "audit_log",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("till_code", sa.String(length=50), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", Json, nullable=False),
        sa.Column("user_context", Json, nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_log_org_id_customer_id_occurred_at",
            ["org_id", "customer_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "id_counters",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_id_counters")),
    )
    op.create_table(
        "orgs",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", Json, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orgs")),
    )
    op.create_table(
        "customers",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("firstname", sa.String(length=100), nullable=False),
        sa.Column("lastname", sa.String(length=100), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("external_id", sa.String(length=250), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("fraud_status", sa.String(length=32), nullable=False),
        sa.Column("registered_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_till", sa.String(length=50), nullable=False),
        sa.Column("associated_with", sa.String(length=50), nullable=True),
        sa.Column("comm_channels", Json, nullable=False),
        sa.Column("custom_fields", Json, nullable=False),
        sa.Column("extended_fields", Json, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_customers_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_customers")),
    )
    op.create_table(
        "tills",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_tills_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "code", name=op.f("pk_tills")),
    )
    with op.batch_alter_table("tills", schema=None) as batch_op:
        batch_op.create_index("ux_tills_code", ["code"], unique=True)

    op.create_table(
        "enrolments",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("program_id", sa.BigInteger(), nullable=False),
        sa.Column("tier_serial", sa.Integer(), nullable=False),
        sa.Column("tier_expires_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loyalty_points", sa.BigInteger(), nullable=False),
        sa.Column("lifetime_points", sa.BigInteger(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_enrolments_org_id_customers"),
        ),
        sa.PrimaryKeyConstraint("org_id", "customer_id", "program_id", name=op.f("pk_enrolments")),
    )
    op.create_table(
        "identifiers",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_identifiers_org_id_customers"),
        ),
        sa.PrimaryKeyConstraint("org_id", "type", "value", name=op.f("pk_identifiers")),
    )
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_identifiers_org_id_customer_id", ["org_id", "customer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_identifiers_org_id_customer_id")

    op.drop_table("identifiers")
    op.drop_table("enrolments")
    with op.batch_alter_table("tills", schema=None) as batch_op:
        batch_op.drop_index("ux_tills_code")

    op.drop_table("tills")
    op.drop_table("customers")
    op.drop_table("orgs")
    op.drop_table("id_counters")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_org_id_customer_id_occurred_at")

    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("customer_id_seq")))
