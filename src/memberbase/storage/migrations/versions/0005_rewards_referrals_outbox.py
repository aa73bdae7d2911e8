"""Rewards ledger, currency balances, coupons, referral codes and referrals, the event outbox.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)
_SEQUENCES = ("coupon_id_seq", "outbox_id_seq")


def _customer_fk(table: str, column: str = "customer_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id", column], ["customers.org_id", "customers.id"], name=op.f(f"fk_{table}_org_id_customers")
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in _SEQUENCES:
            op.execute(sa.schema.CreateSequence(sa.Sequence(name)))
    op.create_table(
        "reward_ledger",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("program_id", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(50), nullable=True),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("raw_value", sa.Numeric(18, 3), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("is_referrer", sa.Boolean(), nullable=False),
        sa.Column("awarded_at", Timestamp, nullable=False),
        sa.Column("expires_on", Timestamp, nullable=True),
        _customer_fk("reward_ledger"),
        sa.PrimaryKeyConstraint("org_id", "entry_key", name=op.f("pk_reward_ledger")),
    )
    op.create_index("ix_reward_ledger_org_id_customer_id", "reward_ledger", ["org_id", "customer_id"])
    op.create_table(
        "currency_balances",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("identifier", sa.String(50), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        _customer_fk("currency_balances"),
        sa.PrimaryKeyConstraint("org_id", "customer_id", "identifier", name=op.f("pk_currency_balances")),
    )
    op.create_table(
        "coupons",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("is_referrer", sa.Boolean(), nullable=False),
        sa.Column("valid_till", Timestamp, nullable=False),
        sa.Column("issued_at", Timestamp, nullable=False),
        _customer_fk("coupons"),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_coupons")),
    )
    op.create_index("ux_coupons_org_id_code", "coupons", ["org_id", "code"], unique=True)
    op.create_index("ux_coupons_org_id_entry_key", "coupons", ["org_id", "entry_key"], unique=True)
    op.create_index("ix_coupons_org_id_customer_id", "coupons", ["org_id", "customer_id"])
    op.create_table(
        "referral_codes",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        _customer_fk("referral_codes"),
        sa.PrimaryKeyConstraint("org_id", "code", name=op.f("pk_referral_codes")),
    )
    op.create_index(
        "ux_referral_codes_org_id_customer_id", "referral_codes", ["org_id", "customer_id"], unique=True
    )
    op.create_table(
        "referrals",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("referee_id", sa.BigInteger(), nullable=False),
        sa.Column("referrer_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("referred_at", Timestamp, nullable=False),
        _customer_fk("referrals", "referee_id"),
        sa.PrimaryKeyConstraint("org_id", "referee_id", name=op.f("pk_referrals")),
    )
    op.create_index("ix_referrals_org_id_referrer_id", "referrals", ["org_id", "referrer_id"])
    op.create_table(
        "outbox",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("occurred_at", Timestamp, nullable=False),
        sa.Column("published_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_index("ix_outbox_occurred_at", "outbox", ["occurred_at"])


def downgrade() -> None:
    for table in ("outbox", "referrals", "referral_codes", "coupons", "currency_balances", "reward_ledger"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for name in _SEQUENCES:
            op.execute(sa.schema.DropSequence(sa.Sequence(name)))
