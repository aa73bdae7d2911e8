"""Migrations carry existing data forward: customers of 0001 get their source profile in 0002."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from memberbase.storage.schema import alembic_config


def test_0002_gives_existing_customers_their_registration_profile(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0001")
    engine = sa.create_engine(url)
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO orgs (id, name, config, version, updated_at) VALUES (1, 'o', '{}', 1, :now)"
            ),
            {"now": now},
        )
        old_customer = {
            "org_id": 1,
            "id": 7,
            "firstname": "Ann",
            "lastname": "Lee",
            "mobile": "919876500001",
            "email": "ann@example.com",
            "external_id": None,
            "type": "LOYALTY",
            "source": "INSTORE",
            "account_id": "",
            "fraud_status": "NONE",
            "registered_on": now,
            "updated_on": now,
            "registered_till": "t1",
            "associated_with": None,
            "comm_channels": [],
            "custom_fields": {"City_name": "Pune"},
            "extended_fields": {},
        }
        json_columns = ("comm_channels", "custom_fields", "extended_fields")
        columns = [sa.column(k, sa.JSON() if k in json_columns else None) for k in old_customer]
        conn.execute(sa.table("customers", *columns).insert().values(old_customer))
    command.upgrade(config, "head")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM profiles")).mappings().one()
    engine.dispose()
    assert (row["customer_id"], row["source"], row["account_id"], row["created_till"]) == (
        7,
        "INSTORE",
        "",
        "t1",
    )
    assert '"externalId"' not in row["identifiers"]
    assert '"919876500001"' in row["identifiers"]
    assert "Pune" in row["fields"]
