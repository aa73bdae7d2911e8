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
consent_log_id_seq = sa.Sequence("consent_log_id_seq", metadata=metadata)

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
    # Bumped by every change: v2 reads answer it as the ETag, PUT's If-Match compares it.
    sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
    # Set on a merge's victim: its id keeps answering reads, as the survivor.
    sa.Column("merged_into", sa.BigInteger),
    # Set when the customer's personal data was erased (a DELETE request): reads answer 8109.
    sa.Column("erased_at", Timestamp),
    # A dummy or test customer (v2 `endPointsEnabled`, seed 003): the loyalty endpoints its
    # registration may reach; NULL for every real customer (all of them).
    sa.Column("endpoints_enabled", Json),
    # The lifecycle state the caller named (v2 `activity`, seed 003), as given.
    sa.Column("activity", sa.String(50)),
)
# Customer search (migration 0010): prefixes of "first last" (which covers first names) and
# of last names, lower-cased, in byte order (text_pattern_ops: prefix ranges whatever the
# database's collation), the id after the key so a page comes out in its final order.
# Partial on "key IS NOT NULL" (every row): only a query with a condition on the key can use
# them, so PostgreSQL never takes one for a probe by (org_id, id), which it did when
# planning on empty tables, walking the org's part of the index for one id.
_FULL_NAME_KEY = "lower((firstname || ' ') || lastname)"  # grouped as PostgreSQL shows it back
sa.Index(
    "ix_customers_search_full_name",
    customers.c.org_id,
    sa.literal_column(_FULL_NAME_KEY, sa.String()).label("full_name_key"),
    customers.c.id,
    postgresql_ops={"full_name_key": "text_pattern_ops"},
    postgresql_where=sa.text(f"{_FULL_NAME_KEY} IS NOT NULL"),
)
sa.Index(
    "ix_customers_search_last_name",
    customers.c.org_id,
    sa.func.lower(customers.c.lastname).label("last_name_key"),
    customers.c.id,
    postgresql_ops={"last_name_key": "text_pattern_ops"},
    postgresql_where=sa.text("lower(lastname) IS NOT NULL"),
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
    # Beside the key only the search's index (migration 0010), partial on a condition no
    # lookup by (org_id, type, value) implies: lookups cannot drift off the key (0007).
)
sa.Index(
    "ix_identifiers_search_value",
    identifiers.c.org_id,
    sa.func.lower(identifiers.c.value).label("value_key"),
    identifiers.c.customer_id,
    postgresql_ops={"value_key": "text_pattern_ops"},
    postgresql_where=sa.text("lower(value) IS NOT NULL"),
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

# Every status label a customer has had, newest last; never rewritten.
status_log = sa.Table(
    "status_log",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("previous_label", sa.String(100)),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("created_on", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("user_context", Json),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
    sa.Index("ix_status_log_org_id_customer_id_created_on", "org_id", "customer_id", "created_on"),
)

# One merge of a victim into a survivor: who, when, why, and exactly what moved (so it can
# be previewed beforehand and undone afterwards).
merges = sa.Table(
    "merges",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("survivor_id", sa.BigInteger, nullable=False),
    sa.Column("victim_id", sa.BigInteger),  # none: a source account added (v2, 8050)
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("till_code", sa.String(100), nullable=False),
    sa.Column("user_context", Json),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("moved", Json, nullable=False),
    sa.Column("undone_at", Timestamp),
    sa.ForeignKeyConstraint(["org_id", "survivor_id"], ["customers.org_id", "customers.id"]),
    sa.Index("ix_merges_org_id_survivor_id", "org_id", "survivor_id"),
    sa.Index("ix_merges_org_id_victim_id", "org_id", "victim_id"),
)

# Requests that wait for approval (/v2/requests): a merge of `user_id` (the victim) into
# the survivor named in `details`. `outcome` is what approving did (the merge id, or why not).
requests = sa.Table(
    "requests",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("base_type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("details", Json, nullable=False),
    sa.Column("comments", sa.String(255)),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("modified_by", sa.String(100)),
    sa.Column("modified_at", Timestamp),
    sa.Column("outcome", Json),
    sa.Column("scheduled_for", Timestamp),  # an approved deletion, once its waiting period ends
    sa.Index("ix_requests_org_id_user_id", "org_id", "user_id"),
)

# Present only inside an erasure's own transaction: lets it blank personal values in the
# append-only audit and consent logs (their triggers allow an UPDATE for a granted customer).
erasure_grants = sa.Table(
    "erasure_grants",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("customer_id", sa.BigInteger, primary_key=True),
)

# The first answer to a write sent with an Idempotency-Key, stored in the write's own
# transaction: a retry with the same key gets it back instead of running again.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Index("ix_idempotency_keys_org_id_expires_at", "org_id", "expires_at"),
)

# Member Care sessions (http/console): the cookie carries a random token, this row its
# hash; logout and the idle timeout end it for every process at once.
staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_seen", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp),
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
    sa.Index("ix_outbox_org_id_customer_id_id", "org_id", "customer_id", "id"),  # one customer's events
)

# A customer's opt-in or opt-out per channel, priority and source account; no row: never set.
subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("customer_id", sa.BigInteger, primary_key=True),
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("priority", sa.String(8), primary_key=True),
    sa.Column("source", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(100), primary_key=True),
    sa.Column("subscribed", sa.Boolean, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
)

# Append-only (triggers refuse UPDATE and DELETE): every subscription instruction with its
# evidence: who (till, API client, user context), when, through which API, the state before
# and after, the reason and the consent wording or version the caller named. Ids ascend in
# commit order per customer (drawn under the customer's lock), so the log reads in that order.
consent_log = sa.Table(
    "consent_log",
    metadata,
    sa.Column("org_id", sa.BigInteger, primary_key=True),
    sa.Column("id", sa.BigInteger, consent_log_id_seq, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(8), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("account_id", sa.String(100), nullable=False),
    sa.Column("subscribed", sa.Boolean, nullable=False),
    sa.Column("previous", sa.Boolean),  # NULL: never set before
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("via", sa.String(32), nullable=False),
    sa.Column("till_code", sa.String(50), nullable=False),
    sa.Column("api_client", sa.String(100)),
    sa.Column("user_context", Json),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(500)),
    sa.Column("consent_text", sa.String(2000)),
    sa.Column("consent_version", sa.String(100)),
    sa.Column("details", Json, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
    sa.Index("ix_consent_log_org_id_customer_id", "org_id", "customer_id"),
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
