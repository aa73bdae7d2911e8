"""Erasure: when a customer's personal data was erased, deletion requests' schedule, and the
grant that lets an erasure scrub the append-only logs (and nothing else may).

The audit and consent logs refuse UPDATE and DELETE. An erasure must still blank the
personal values inside them, so their triggers now let an UPDATE through for a customer
that has a row in `erasure_grants`; the erasure inserts that row and deletes it again in
its own transaction, so no other writer ever sees it. DELETE stays refused.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_LOGS = ("audit_log", "consent_log")
_GRANTED = (
    "EXISTS (SELECT 1 FROM erasure_grants g WHERE g.org_id = OLD.org_id AND g.customer_id = OLD.customer_id)"
)


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "erasure_grants",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "customer_id", name=op.f("pk_erasure_grants")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for log in _LOGS:
            op.execute(
                f"""
                CREATE OR REPLACE FUNCTION {log}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'UPDATE' AND {_GRANTED} THEN
                        RETURN NEW;
                    END IF;
                    RAISE EXCEPTION '{log} is append-only';
                END;
                $$
                """
            )
        return
    for log in _LOGS:
        op.execute(f"DROP TRIGGER {log}_no_update")
        op.execute(
            f"CREATE TRIGGER {log}_no_update BEFORE UPDATE ON {log} WHEN NOT {_GRANTED} "
            f"BEGIN SELECT RAISE(ABORT, '{log} is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for log in _LOGS:
            op.execute(
                f"""
                CREATE OR REPLACE FUNCTION {log}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '{log} is append-only';
                END;
                $$
                """
            )
    else:
        for log in _LOGS:
            op.execute(f"DROP TRIGGER {log}_no_update")
            op.execute(
                f"CREATE TRIGGER {log}_no_update BEFORE UPDATE ON {log} "
                f"BEGIN SELECT RAISE(ABORT, '{log} is append-only'); END"
            )
    op.drop_table("erasure_grants")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("scheduled_for")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("erased_at")
