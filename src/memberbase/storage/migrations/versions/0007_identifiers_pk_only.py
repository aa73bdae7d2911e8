"""Identifiers keep only their primary key: lookups cannot drift onto an org-wide index.

The (org_id, customer_id) index served no query (customers are never deleted, so the
foreign key never needs it), and without statistics PostgreSQL preferred it for the
owner lookup, reading every identifier of the org per registration.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_identifiers_org_id_customer_id")


def downgrade() -> None:
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_identifiers_org_id_customer_id", ["org_id", "customer_id"], unique=False)
