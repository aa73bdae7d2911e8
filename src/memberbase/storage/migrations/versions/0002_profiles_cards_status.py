"""Source profiles, cards, card sequences, status label, referral code, points expiry.

Existing customers get the profile of the source they were registered from.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_IDENTIFIER_COLUMNS = {"mobile": "mobile", "email": "email", "external_id": "externalId"}


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("status_label", sa.String(100), nullable=True))
        batch.add_column(sa.Column("referral_code", sa.String(100), nullable=True))
    with op.batch_alter_table("enrolments") as batch:
        batch.add_column(sa.Column("points_expire_on", sa.DateTime(timezone=True), nullable=True))
    profiles = op.create_table(
        "profiles",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("firstname", sa.String(100), nullable=False),
        sa.Column("lastname", sa.String(100), nullable=False),
        sa.Column("identifiers", Json, nullable=False),
        sa.Column("comm_channels", Json, nullable=False),
        sa.Column("fields", Json, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_till", sa.String(50), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_profiles_org_id_customers"),
        ),
        sa.PrimaryKeyConstraint("org_id", "customer_id", "source", "account_id", name=op.f("pk_profiles")),
    )
    op.create_table(
        "cards",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("card_number", sa.String(50), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("status_label", sa.String(100), nullable=False),
        sa.Column("extended_fields", Json, nullable=False),
        sa.Column("custom_fields", Json, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["customers.org_id", "customers.id"],
            name=op.f("fk_cards_org_id_customers"),
        ),
        sa.PrimaryKeyConstraint("org_id", "card_number", name=op.f("pk_cards")),
    )
    with op.batch_alter_table("cards") as batch:
        batch.create_index("ix_cards_org_id_customer_id", ["org_id", "customer_id"], unique=False)
    op.create_table(
        "card_sequences",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "series_id", name=op.f("pk_card_sequences")),
    )
    _backfill_profiles(profiles)


def _backfill_profiles(profiles: sa.Table) -> None:
    bind = op.get_bind()
    customers = sa.table(
        "customers",
        *(
            sa.column(c)
            for c in ("org_id", "id", "source", "account_id", "firstname", "lastname", "mobile", "email")
        ),
        sa.column("external_id"),
        sa.column("comm_channels", Json),
        sa.column("custom_fields", Json),
        sa.column("registered_on", sa.DateTime(timezone=True)),
        sa.column("registered_till"),
    )
    rows = []
    for c in bind.execute(sa.select(customers)).mappings():
        identifiers = [{"type": wire, "value": c[col]} for col, wire in _IDENTIFIER_COLUMNS.items() if c[col]]
        rows.append(
            {
                "org_id": c["org_id"],
                "customer_id": c["id"],
                "source": c["source"],
                "account_id": c["account_id"],
                "firstname": c["firstname"],
                "lastname": c["lastname"],
                "identifiers": identifiers,
                "comm_channels": c["comm_channels"] or [],
                "fields": c["custom_fields"] or {},
                "created_at": c["registered_on"] or dt.datetime.now(dt.UTC),
                "created_till": c["registered_till"],
            }
        )
        if len(rows) == 1000:
            bind.execute(profiles.insert(), rows)
            rows = []
    if rows:
        bind.execute(profiles.insert(), rows)


def downgrade() -> None:
    op.drop_table("card_sequences")
    with op.batch_alter_table("cards") as batch:
        batch.drop_index("ix_cards_org_id_customer_id")
    op.drop_table("cards")
    op.drop_table("profiles")
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("points_expire_on")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("referral_code")
        batch.drop_column("status_label")
