"""Migrations carry existing data forward: customers of 0001 get their source profile in 0002."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command

from memberbase.storage.schema import alembic_config, check
from tests.conftest import postgres_database


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


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_database(f"memberbase_migrations_{os.getpid()}")


@pytest.mark.postgres
def test_0010_keeps_the_search_indexes_an_operator_built_as_ops_md_shows(postgres_url: str) -> None:
    """docs/ops.md: build the indexes CONCURRENTLY first; the upgrade keeps them, and they are
    the ones the tables declare."""
    command.downgrade(alembic_config(postgres_url), "0007")
    ops = (Path(__file__).resolve().parents[1] / "docs" / "ops.md").read_text()
    by_hand = re.search(r"```sql\n(.*?)```", ops, re.S)
    assert by_hand is not None
    names = (
        "SELECT indexrelid::regclass::text, indexrelid FROM pg_index"
        " WHERE indexrelid::regclass::text LIKE '%search%'"
    )
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for statement in by_hand.group(1).split(";")[:-1]:
            conn.execute(statement)
        built = dict(conn.execute(names).fetchall())
    command.upgrade(alembic_config(postgres_url), "head")
    check(postgres_url)
    with psycopg.connect(postgres_url) as conn:
        assert dict(conn.execute(names).fetchall()) == built
    assert len(built) == 3
