"""Lookups by identifier from concurrent requests: one statement, each caller its own answer.

Run on both stores: on PostgreSQL the batch is one statement (`unnest ... WITH
ORDINALITY`), on SQLite one read per key; the answers must be the same either way.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from memberbase.domain.org_config import IdentifierType
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.database import Statement, reading
from memberbase.storage.lookups import customer_lookups
from tests.support import Api

pytestmark = pytest.mark.anyio


async def _register(api: Api) -> dict[str, int]:
    ids = {}
    for n in (1, 2, 3):
        item = await api.add_one({"mobile": f"91987653000{n}", "email": f"co{n}@example.com"})
        assert item["item_status"]["success"] == "true", item
        ids[f"91987653000{n}"] = int(item["user_id"])
    return ids


async def test_concurrent_holder_lookups_answer_each_caller(
    api: Api, engine_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _register(api)
    org = api.spec.org_id
    engine = engine_for()
    statements: list[Any] = []
    real_fetch = Statement.fetch

    async def counted(self: Statement, conn: Any, params: Any) -> Any:
        statements.append(params)
        return await real_fetch(self, conn, params)

    monkeypatch.setattr(Statement, "fetch", counted)
    try:
        lookups = customer_lookups(engine)
        asked = [
            (("mobile", "919876530001"), ("INSTORE", "")),
            (("mobile", "919876530002"), None),
            (("mobile", "919876530003"), ("WECHAT", "wx-1")),  # holder without that account
            (("mobile", "919876530003"), ("INSTORE", "")),
            (("mobile", "919876539999"), ("INSTORE", "")),  # nobody
            (("email", "co1@example.com"), ("INSTORE", "")),
            (("mobile", "919876530001"), ("INSTORE", "")),  # the same question twice
        ]
        answers = await asyncio.gather(*(lookups.holder_of(org, claim, account) for claim, account in asked))
        assert answers == [
            (ids["919876530001"], True),
            (ids["919876530002"], True),  # no account asked for
            (ids["919876530003"], False),
            (ids["919876530003"], True),
            None,
            (ids["919876530001"], True),
            (ids["919876530001"], True),
        ]
        if engine.dialect.name == "postgresql":
            assert len(statements) == 1  # the seven questions were one statement
        # The same answers one at a time, straight from the repository.
        async with reading(engine) as conn:
            repo = CustomerRepository(conn, org)
            assert [await repo.holder_of(claim, account) for claim, account in asked] == answers
    finally:
        await engine.dispose()


async def test_concurrent_enrolled_lookups_answer_each_caller(api: Api, engine_for: Any) -> None:
    ids = await _register(api)
    org = api.spec.org_id
    engine = engine_for()
    try:
        lookups = customer_lookups(engine)
        asked = [
            (IdentifierType.MOBILE, "919876530002"),
            (IdentifierType.EMAIL, "nobody@example.com"),
            (IdentifierType.MOBILE, "919876530001"),
            (IdentifierType.EMAIL, "co3@example.com"),
        ]
        answers = await asyncio.gather(*(lookups.find_enrolled(org, kind, value) for kind, value in asked))
        found = [None if a is None else a[0].id for a in answers]
        assert found == [ids["919876530002"], None, ids["919876530001"], ids["919876530003"]]
        async with reading(engine) as conn:
            repo = CustomerRepository(conn, org)
            for (kind, value), answer in zip(asked, answers, strict=True):
                assert [answer] == await repo.find_enrolled_each([(kind.value, value)])
    finally:
        await engine.dispose()
