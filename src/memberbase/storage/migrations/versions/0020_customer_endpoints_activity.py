"""What seed 003 lets a v2 registration say about the customer itself: `endPointsEnabled`
(a dummy or test customer, and which loyalty endpoints it may reach) and `activity` (its
lifecycle state as the caller names it).

Revision ID: 0020
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0020"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("endpoints_enabled", sa.JSON().with_variant(JSONB(), "postgresql")))
        batch.add_column(sa.Column("activity", sa.String(50)))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("activity")
        batch.drop_column("endpoints_enabled")
