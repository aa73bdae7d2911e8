"""The schema. Every tenant table is keyed by org_id first, so the data can later be
distributed by org (e.g. with Citus) without reshaping it; uniqueness rules that
the hosted API promises per org are composite keys that include org_id, so the
database is the backstop when two tills race.

Alembic migrations (storage/migrations) are the truth of the schema; this module
must match them (`memberbase db check` and CI verify it).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)

# PostgreSQL draws customer ids from this sequence; SQLite from id_counters (see repositories).
customer_id_seq = sa.Sequence("customer_id_seq", metadata=metadata)
coupon_id_seq = sa.Sequence("coupon_id_seq", metadata=metadata)
outbox_id_seq = sa.Sequence("outbox_id_seq", metadata=metadata)

orgs = sa.Table(
    "orgs",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("config", Json, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# A small reference table: a till code is a login name, so it is unique across orgs.
tills = sa.Table(
    "tills",
    metadata,
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("orgs.id"), primary_key=True),
    sa.Column("code", sa.String(50), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("store", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Index("ux_tills_code", "code", unique=True),
)

# OAuth clients: like tills, a small reference table whose keys are logins.
api_clients = sa.Table(
    "api_clients",
    metadata,
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("orgs.id"), primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("secret_hash", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Index("ux_api_clients_key", "key", unique=True),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("orgs.id"), primary_key=True),
    sa.Column("id", sa.BigInteger, customer_id_seq, primary_key=True, autoincrement=False),
    sa.Column("firstname", sa.String(100), nullable=False),
    sa.Column("lastname", sa.String(100), nullable=False),
    sa.Column("mobile", sa.String(20)),
    sa.Column("email", sa.String(255)),
    sa.Column("external_id", sa.String(250)),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("account_id", sa.String(100), nullable=False),
    sa.Column("fraud_status", sa.String(32), nullable=False),
    sa.Column("registered_on", Timestamp, nullable=False),
    sa.Column("updated_on", Timestamp, nullable=False),
    sa.Column("registered_till", sa.String(50), nullable=False),
    sa.Column("associated_with", sa.String(50)),
    sa.Column("comm_channels", Json, nullable=False),
    sa.Column("custom_fields", Json, nullable=False),
    sa.Column("extended_fields", Json, nullable=False),
    sa.Column("status_label", sa.String(100)),
    sa.Column("referral_code", sa.String(100)),
)

# One account of a customer in one source (and, for multi-account sources, one accountId).
profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("customer_id", sa.BigInteger, primary_key=True),
    sa.Column("source", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(100), primary_key=True),
    sa.Column("firstname", sa.String(100), nullable=False),
    sa.Column("lastname", sa.String(100), nullable=False),
    sa.Column("identifiers", Json, nullable=False),
    sa.Column("comm_channels", Json, nullable=False),
    sa.Column("fields", Json, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_till", sa.String(50), nullable=False),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
)

cards = sa.Table(
    "cards",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("card_number", sa.String(50), primary_key=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("series_id", sa.BigInteger, nullable=False),
    sa.Column("status_label", sa.String(100), nullable=False),
    sa.Column("extended_fields", Json, nullable=False),
    sa.Column("custom_fields", Json, nullable=False),
    sa.Column("issued_at", Timestamp, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
    sa.Index("ix_cards_org_id_customer_id", "org_id", "customer_id"),
)

# The next sequence number of each generating card series (a row lock serialises issuers).
card_sequences = sa.Table(
    "card_sequences",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("series_id", sa.BigInteger, primary_key=True),
    sa.Column("next_value", sa.BigInteger, nullable=False),
)

# Which customer of the org holds an identifier value. The primary key is the
# promise "the same identifier never yields two customers", kept under concurrency.
identifiers = sa.Table(
    "identifiers",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("type", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(300), primary_key=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
    # No index beside the key (migration 0007): lookups go by (org_id, type, value) only.
)

enrolments = sa.Table(
    "enrolments",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("customer_id", sa.BigInteger, primary_key=True),
    sa.Column("program_id", sa.BigInteger, primary_key=True),
    sa.Column("tier_serial", sa.Integer, nullable=False),
    sa.Column("tier_expires_on", Timestamp, nullable=False),
    sa.Column("loyalty_points", sa.BigInteger, nullable=False),
    sa.Column("lifetime_points", sa.BigInteger, nullable=False),
    sa.Column("points_expire_on", Timestamp),
    sa.Column("enrolled_at", Timestamp, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
)

# Append-only: who (org, till), when, what changed, and the caller's user context.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("till_code", sa.String(50), nullable=False),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("changes", Json, nullable=False),
    sa.Column("user_context", Json),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_org_id_customer_id_occurred_at", "org_id", "customer_id", "occurred_at"),
)

# Every points or alternate-currency award. The entry key names the rule, the earner and
# the customer whose registration earned it, so the key is the "never paid twice" backstop.
reward_ledger = sa.Table(
    "reward_ledger",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("entry_key", sa.String(200), primary_key=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # points | alternate_currency
    sa.Column("program_id", sa.BigInteger),
    sa.Column("currency", sa.String(50)),
    sa.Column("rule_id", sa.String(64), nullable=False),
    sa.Column("raw_value", sa.Numeric(18, 3), nullable=False),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("is_referrer", sa.Boolean, nullable=False),
    sa.Column("awarded_at", Timestamp, nullable=False),
    sa.Column("expires_on", Timestamp),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
    sa.Index("ix_reward_ledger_org_id_customer_id", "org_id", "customer_id"),
)

currency_balances = sa.Table(
    "currency_balances",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("customer_id", sa.BigInteger, primary_key=True),
    sa.Column("identifier", sa.String(50), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("balance", sa.BigInteger, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
)

coupons = sa.Table(
    "coupons",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("id", sa.BigInteger, coupon_id_seq, primary_key=True, autoincrement=False),
    sa.Column("series_id", sa.BigInteger, nullable=False),
    sa.Column("code", sa.String(50), nullable=False),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("rule_id", sa.String(64), nullable=False),
    sa.Column("entry_key", sa.String(200), nullable=False),
    sa.Column("is_referrer", sa.Boolean, nullable=False),
    sa.Column("valid_till", Timestamp, nullable=False),
    sa.Column("issued_at", Timestamp, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
    sa.Index("ux_coupons_org_id_code", "org_id", "code", unique=True),
    sa.Index("ux_coupons_org_id_entry_key", "org_id", "entry_key", unique=True),
    sa.Index("ix_coupons_org_id_customer_id", "org_id", "customer_id"),
)

# Each customer's own code to share; registering with it names them the referrer.
referral_codes = sa.Table(
    "referral_codes",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("code", sa.String(20), primary_key=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
    sa.Index("ux_referral_codes_org_id_customer_id", "org_id", "customer_id", unique=True),
)

# Who referred whom: a customer is referred once (the key), a referrer many times.
referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("referee_id", sa.BigInteger, primary_key=True),
    sa.Column("referrer_id", sa.BigInteger, nullable=False),
    sa.Column("campaign_id", sa.BigInteger, nullable=False),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("referred_at", Timestamp, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "referee_id"], ["customers.org_id", "customers.id"]),
    sa.Index("ix_referrals_org_id_referrer_id", "org_id", "referrer_id"),
)

# Events waiting for (and kept after) delivery to the broker, written in the transaction
# that caused them. `id` is global and ascending in commit order per customer.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("id", sa.BigInteger, outbox_id_seq, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("published_at", Timestamp),
    sa.Index(
        "ix_outbox_unpublished",
        "id",
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    ),
    sa.Index("ix_outbox_occurred_at", "occurred_at"),
)

# Where a bulk import of a file has got to, committed with each batch: an interrupted
# import resumes after the last committed row, so nobody is imported twice.
import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("file_name", sa.String(500), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("next_line", sa.BigInteger, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("registered", sa.BigInteger, nullable=False),
    sa.Column("updated", sa.BigInteger, nullable=False),
    sa.Column("rejected", sa.BigInteger, nullable=False),
    sa.Column("rejects_offset", sa.BigInteger, nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp),
)

# SQLite has no sequences; its writers are serialised, so a counter row is safe there.
id_counters = sa.Table(
    "id_counters",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("next_value", sa.BigInteger, nullable=False),
)
