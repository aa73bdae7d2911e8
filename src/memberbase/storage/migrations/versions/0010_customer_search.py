"""Customer search: prefix indexes on identifiers and names, lower-cased, in byte order.

`text_pattern_ops` orders by bytes whatever the database's collation, so a prefix is one
range of each index, and the id after the key gives a page in its final order. Each is
partial on "key IS NOT NULL", true of every row: PostgreSQL uses a partial index only for
a query whose conditions imply its predicate, so only conditions on the key (the search's)
can use these. Without that, planning on empty tables took them for the owner lookups by
(org_id, type, value) and probes by (org_id, id), walking the org's part of the index (see
0007 and tests/storage/test_query_plans.py).

IF NOT EXISTS: on a large table an operator may build them first with CREATE INDEX
CONCURRENTLY under these names (docs/ops.md), and the upgrade then keeps them.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _text(name: str) -> sa.ColumnClause[str]:
    return sa.column(name, sa.String())


def upgrade() -> None:
    op.create_index(
        "ix_identifiers_search_value",
        "identifiers",
        [_text("org_id"), sa.func.lower(_text("value")).label("value_key"), _text("customer_id")],
        postgresql_ops={"value_key": "text_pattern_ops"},
        postgresql_where=sa.text("lower(value) IS NOT NULL"),
        if_not_exists=True,
    )
    full_name = "lower((firstname || ' ') || lastname)"
    op.create_index(
        "ix_customers_search_full_name",
        "customers",
        [_text("org_id"), sa.literal_column(full_name, sa.String()).label("full_name_key"), _text("id")],
        postgresql_ops={"full_name_key": "text_pattern_ops"},
        postgresql_where=sa.text(f"{full_name} IS NOT NULL"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_customers_search_last_name",
        "customers",
        [_text("org_id"), sa.func.lower(_text("lastname")).label("last_name_key"), _text("id")],
        postgresql_ops={"last_name_key": "text_pattern_ops"},
        postgresql_where=sa.text("lower(lastname) IS NOT NULL"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_customers_search_last_name", table_name="customers")
    op.drop_index("ix_customers_search_full_name", table_name="customers")
    op.drop_index("ix_identifiers_search_value", table_name="identifiers")
