"""OAuth API clients and the shared token signing key.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_api_clients_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "key", name=op.f("pk_api_clients")),
    )
    with op.batch_alter_table("api_clients") as batch:
        batch.create_index("ux_api_clients_key", ["key"], unique=True)
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_index("ux_api_clients_key")
    op.drop_table("api_clients")
