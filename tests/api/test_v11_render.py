"""The v1.1 customer body: headline figures from the default programme, each summary its own."""

from __future__ import annotations

import datetime as dt

from memberbase.domain.customer import CustomerRecord, CustomerType
from memberbase.domain.loyalty import Enrolment
from memberbase.domain.org_config import OrgConfig
from memberbase.http.v1_1.render import customer_json
from memberbase.usecases.results import CustomerView

UTC = dt.UTC
ORG = OrgConfig.model_validate(
    {
        "id": 1,
        "name": "Org",
        "timezone": "Asia/Kolkata",
        "custom_fields": [{"name": "zone"}, {"name": "area"}],
        "extended_fields": ["gender", "city"],
        "programs": [
            {"id": 10, "name": "Side", "tiers": [{"serial": 1, "name": "Side Base"}]},
            {
                "id": 20,
                "name": "Main",
                "default": True,
                "tiers": [{"serial": 1, "name": "Base"}, {"serial": 2, "name": "Silver"}],
            },
        ],
    }
)


def _customer(custom: dict[str, str], extended: dict[str, str | int]) -> CustomerView:
    record = CustomerRecord(
        id=7,
        firstname="Asha",
        lastname="Rao",
        mobile="919876500007",
        email=None,
        external_id=None,
        type=CustomerType.LOYALTY,
        source="INSTORE",
        account_id="",
        fraud_status="NONE",
        registered_on=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated_on=dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC),
        registered_till="t1",
        associated_with=None,
        comm_channels=[],
        custom_fields=custom,
        extended_fields=extended,
    )
    enrolments = [
        Enrolment(10, 1, dt.datetime(2027, 1, 1, 0, 0, tzinfo=UTC), loyalty_points=5, lifetime_points=6),
        Enrolment(20, 2, dt.datetime(2028, 6, 30, 18, 30, tzinfo=UTC), loyalty_points=50, lifetime_points=60),
    ]
    return CustomerView(record, enrolments)


def test_the_default_programme_leads_and_each_summary_carries_its_own_expiry() -> None:
    body = customer_json(_customer({}, {}), ORG, for_get=True)
    summaries = body["points_summaries"]["points_summary"]
    assert [s["programId"] for s in summaries] == ["20", "10"]
    assert [s["slabExpiryDate"] for s in summaries] == ["2028-07-01 00:00:00", "2027-01-01 05:30:00"]
    assert [s["currentSlab"] for s in summaries] == ["Silver", "Side Base"]
    assert body["loyalty_points"] == 50
    assert body["current_slab"] == "Silver"
    assert body["tier_expiry_date"] == "2028-07-01 00:00:00"
    assert body["registered_on"] == "2026-01-02 08:34:05"
    assert body["updated_on"] == "2026-02-03 09:35:06"


def test_fields_come_in_the_orgs_order_and_none_as_an_empty_list() -> None:
    body = customer_json(_customer({"area": "North", "zone": "Z1"}, {"city": "Pune", "gender": "F"}), ORG)
    assert body["custom_fields"] == {
        "field": [{"name": "zone", "value": "Z1"}, {"name": "area", "value": "North"}]
    }
    assert body["extended_fields"]["field"] == [
        {"name": "gender", "value": "F"},
        {"name": "city", "value": "Pune"},
    ]
    empty = customer_json(_customer({}, {}), ORG)
    assert empty["custom_fields"] == {"field": []}
    assert empty["extended_fields"] == {"field": []}
