"""A stored customer is always readable, whatever JSON its free-form columns already hold.

PostgreSQL's JSONB keeps `1e20` as the integer 100000000000000000000, which no JSON encoder
of 64-bit integers writes back: every read of such a row answered 500 (issue 21 item 1).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from memberbase.storage.json_repair import repair
from memberbase.storage.tables import audit_log, customers
from tests.support import Api

pytestmark = pytest.mark.anyio

BAD_CHANNELS = '[{"type": "mobile", "value": 1e20, "meta": {"big": 1.5e300, "huge": 1e308}}]'
BAD_FIELDS = '{"score": 1' + "0" * 5000 + "}"


async def _store_bad_json(engine_for: Any, user_id: int) -> None:
    engine = engine_for()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "UPDATE customers SET comm_channels = :channels, custom_fields = :fields WHERE id = :id"
                    if engine.dialect.name == "sqlite"
                    else "UPDATE customers SET comm_channels = CAST(:channels AS jsonb),"
                    " custom_fields = CAST(:fields AS jsonb) WHERE id = :id"
                ),
                {"channels": BAD_CHANNELS, "fields": BAD_FIELDS, "id": user_id},
            )
    finally:
        await engine.dispose()


async def test_every_read_answers_a_customer_with_out_of_range_numbers(api: Api, engine_for: Any) -> None:
    assert customers.name == "customers"
    added = await api.add_one({"mobile": "919444400003"})
    other = await api.add_one({"mobile": "919444400004"})
    await _store_bad_json(engine_for, int(added["user_id"]))

    one = await api.get(mobile="919444400003")
    assert one.status_code == 200, one.text
    batch = await api.get(mobile="919444400003,919444400004")
    assert batch.status_code == 200, batch.text
    assert len(batch.json()["response"]["customers"]["customer"]) == 2
    v2 = await api.v2_get(f"/v2/customers/{added['user_id']}")
    assert v2.status_code == 200, v2.text
    details = await api.v2_get(
        "/v2/customers/lookup/customerDetails",
        source="INSTORE",
        identifierName="mobile",
        identifierValue="919444400003",
    )
    assert details.status_code == 200, details.text
    search = await api.v2_get("/v2/customers/search", q="919444400003")
    assert search.status_code == 200, search.text
    assert other["user_id"] != added["user_id"]


def test_stored_json_reads_numbers_no_encoder_refuses() -> None:
    from memberbase.storage.database import _json_loads

    assert _json_loads('{"a": 100000000000000000000}') == {"a": 1e20}
    assert _json_loads('{"a": 9223372036854775807, "b": -9223372036854775808}') == {
        "a": 2**63 - 1,
        "b": -(2**63),
    }
    assert _json_loads('{"a": 1' + "0" * 400 + "}") == {"a": None}
    assert _json_loads('{"a": NaN, "b": Infinity, "c": -Infinity}') == {"a": None, "b": None, "c": None}


@pytest.mark.parametrize("number", [1e20, 1e308, 1.5e300])
async def test_out_of_range_numbers_are_refused_at_the_door(api: Api, number: float) -> None:
    channels = [{"type": "mobile", "value": number}]
    v11 = await api.add({"mobile": "919444400005", "commChannels": channels})
    status = v11.json()["response"]["customers"]["customer"][0]["item_status"]
    assert status["success"] == "false"
    assert "commChannels[0].value must be a number within" in status["message"]
    v2 = await api.v2_add(
        {
            "profiles": [
                {
                    "identifiers": [{"type": "mobile", "value": "919444400006"}],
                    "commChannels": channels,
                }
            ]
        }
    )
    assert v2.status_code == 400, v2.text
    assert "within" in v2.text


async def test_huge_and_many_channels_are_refused(api: Api) -> None:
    for channels in ([{"type": "mobile", "value": "x" * 900_000}], [{"type": "mobile"}] * 30_000):
        response = await api.add({"mobile": "919444400007", "commChannels": channels})
        status = response.json()["response"]["customers"]["customer"][0]["item_status"]
        assert status["success"] == "false", status
    assert (await api.get(mobile="919444400007")).json()["response"]["customers"]["customer"][0][
        "item_status"
    ]["success"] == "false"


async def test_db_repair_counts_then_mends_rows_stored_before_the_limits(api: Api, engine_for: Any) -> None:
    added = await api.add_one({"mobile": "919444400008"})
    user_id = int(added["user_id"])
    await _store_bad_json(engine_for, user_id)
    engine = engine_for()
    try:
        dry = await repair(engine, apply=False, batch=7)
        assert dry.found >= 1
        assert dry.mended == 0
        assert dry.scanned >= dry.found
        applied = await repair(engine, apply=True)
        assert applied.mended == applied.found >= 1
        assert (await repair(engine, apply=False)).found == 0
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(customers.c.comm_channels, customers.c.custom_fields).where(
                        customers.c.id == user_id
                    )
                )
            ).one()
            audited = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(audit_log)
                    .where(audit_log.c.customer_id == user_id, audit_log.c.action == "customer.repaired")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert row.comm_channels[0]["value"] == "1e+20"
    assert row.comm_channels[0]["meta"] == {"big": "1.5e+300", "huge": "1e+308"}
    assert row.custom_fields == {"score": "1e+5000"} or row.custom_fields["score"] is None
    assert audited == 1
    assert (await api.get(mobile="919444400008")).status_code == 200
