"""Rows encoded in COPY text format away from the database read back exactly as they were."""

from __future__ import annotations

import datetime as dt
import enum
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from memberbase.storage.bulk import copy_text
from memberbase.storage.copy_text import encode
from memberbase.storage.database import create_engine
from memberbase.usecases.unit_of_work import UnitOfWork
from tests.conftest import postgres_database

pytestmark = pytest.mark.anyio


class Colour(enum.StrEnum):
    RED = "red"


SAMPLES = sa.Table(
    "copy_text_samples",
    sa.MetaData(),
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.String(100)),
    sa.Column("colour", sa.String(10)),
    sa.Column("active", sa.Boolean),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("amount", sa.Numeric(12, 2)),
    sa.Column("doc", sa.JSON().with_variant(JSONB(), "postgresql")),
)
AWARE = dt.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "tab\there, new\nline, back\\slash, cr\r, \\N",
        "colour": Colour.RED,
        "active": True,
        "at": AWARE,
        "amount": Decimal("12.50"),
        "doc": {"quote": 'say "hi"\n', "path": "C:\\temp", "list": [1, None, "ü"]},
    },
    {"id": 2, "name": "", "colour": None, "active": False, "at": None, "amount": None, "doc": None},
    {
        "id": 3,
        "name": None,
        "colour": "plain",
        "active": None,
        "at": dt.datetime(2026, 1, 2, 3, 4, 5),
        "amount": Decimal("0"),
        "doc": {},
    },
]


def test_values_are_escaped_and_nulls_spelled_as_postgresql_reads_them() -> None:
    copied = encode(SAMPLES, [(7, ROWS[1])])
    assert copied.columns == ["id", "name", "colour", "active", "at", "amount", "doc"]
    # An empty string is a value; None is \N; booleans are t/f.
    assert copied.data == b"2\t\t\\N\tf\t\\N\t\\N\t\\N\n"
    first = encode(SAMPLES, [(0, ROWS[0])]).data.decode().rstrip("\n").split("\t")
    assert first[1] == "tab\\there, new\\nline, back\\\\slash, cr\\r, \\\\N"
    assert first[2] == "red"
    assert first[4] == "2026-12-01T09:30:15.123456+05:30"
    assert first[6] == '{"quote":"say \\\\"hi\\\\"\\\\n","path":"C:\\\\\\\\temp","list":[1,null,"ü"]}'


def test_the_lines_of_some_positions_can_be_kept() -> None:
    copied = encode(SAMPLES, [(0, ROWS[0]), (0, ROWS[2]), (4, ROWS[1])])
    lines = copied.data.splitlines(keepends=True)
    assert len(lines) == 3
    assert copied.kept({0, 4}) is copied.data  # everything kept: no copy
    assert copied.kept({4}) == lines[2]
    assert copied.kept({0}) == lines[0] + lines[1]
    assert copied.kept(set()) == b""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database of its own: COPY is PostgreSQL's (never skipped under CI=true)."""
    yield from postgres_database(f"memberbase_copy_text_{os.getpid()}")


@pytest.mark.postgres
async def test_postgresql_reads_back_exactly_what_was_encoded(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        async with UnitOfWork(engine) as uow:
            await uow.conn.run_sync(lambda sync: SAMPLES.create(sync))
            copied = encode(SAMPLES, list(enumerate(ROWS)))
            await copy_text(uow.conn, SAMPLES, copied.columns, copied.data)
            stored = (await uow.conn.execute(sa.select(SAMPLES).order_by(SAMPLES.c.id))).mappings().all()
            await uow.conn.run_sync(lambda sync: SAMPLES.drop(sync))
    finally:
        await engine.dispose()
    expected = [{**row, "colour": row["colour"] and str(row["colour"])} for row in ROWS]
    expected[2]["at"] = ROWS[2]["at"].replace(tzinfo=dt.UTC)  # a naive time is taken as UTC
    assert [dict(r) for r in stored] == expected
