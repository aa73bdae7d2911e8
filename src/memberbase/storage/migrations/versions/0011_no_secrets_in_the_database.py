"""The token signing key leaves the database: `server_secrets` is dropped.

Anyone who could read the table could mint tokens for any org. The key now comes from
MEMBERBASE_SECRET_KEY or MEMBERBASE_SECRET_KEY_FILE (auth/signing_keys.py); tokens signed
with the stored key stop verifying, and their clients ask for new ones (401, as for an
expired token). The downgrade brings the table back empty: a server of the earlier version
then stores a new key on first use, as it did on a new database.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("server_secrets")


def downgrade() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
