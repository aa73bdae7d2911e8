"""What registration earns, in both API shapes: the seeds' side-effect samples and beyond."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest
import xmltodict

from tests.api.test_v2_customers import customer as v2_customer
from tests.rewards_support import (
    REFERRAL_CAMPAIGN,
    WELCOME,
    events_of,
    ledger_points,
    loyalty_api,
    query,
    referral_code,
)
from tests.support import OrgSpec

pytestmark = pytest.mark.anyio

POINTS_100 = {"id": "WELCOME-PTS", "points": 100}
COUPON = {"id": "WELCOME-CPN", "coupon_series": 11}
CURRENCY = {"id": "AC", "alternate_currency": {"identifier": "rgpws7", "name": "ac1", "value": 110}}
APP_POINTS = {"id": "APP-PTS", "points": 75, "sources": ["MOBILE_APP"]}


@pytest.fixture
def client(app_client: tuple[Any, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_client[1]


def shopper(mobile: str, **extra: Any) -> dict[str, Any]:
    return {"mobile": mobile, "firstname": "Tom", "lastname": "Sawyer", **extra}


# ---- v1.1 -------------------------------------------------------------------------------


async def test_v11_points_effect_matches_the_seed_and_the_balances_reflect_it(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100)
    item = await api.add_one(shopper("919876500001"))
    assert item["side_effects"] == {
        "effect": [{"awarded_points": 100, "total_points": 100, "type": "points"}]
    }
    assert (item["loyalty_points"], item["lifetime_points"]) == (100, 100)
    summary = item["points_summaries"]["points_summary"][0]
    assert (summary["loyaltyPoints"], summary["lifetimePoints"]) == ("100", "100")
    assert await ledger_points(database_url, org_spec.org_id, item["user_id"]) == 100


async def test_v11_coupon_effect_has_the_seed_fields_and_types(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, COUPON)
    item = await api.add_one(shopper("919876500002"))
    (effect,) = item["side_effects"]["effect"]
    assert list(effect) == ["id", "coupon_type", "coupon_code", "valid_till", "description", "type"]
    assert isinstance(effect["id"], int)
    assert (effect["coupon_type"], effect["description"], effect["type"]) == ("PE", WELCOME, "coupon")
    assert re.fullmatch(r"[A-Z2-9]{8}", effect["coupon_code"])
    local_today = dt.datetime.now(dt.timezone(dt.timedelta(hours=5, minutes=30))).date()
    assert effect["valid_till"] == f"{local_today + dt.timedelta(days=30)} 23:59:59"
    held = (await api.get(mobile="919876500002")).json()["response"]["customers"]["customer"][0]
    assert [c["code"] for c in held["coupons"]["coupon"]] == [effect["coupon_code"]]


async def test_v11_alternate_currency_effect_quotes_the_value_as_a_string(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, CURRENCY)
    item = await api.add_one(shopper("919876500003"))
    assert item["side_effects"]["effect"] == [
        {
            "alternate_currency_identifier": "rgpws7",
            "alternate_currency_name": "ac1",
            "awarded_value": "110",
            "type": "alternate_currency",
        }
    ]
    balances = await query(
        database_url,
        "SELECT balance FROM currency_balances WHERE org_id = :o AND customer_id = :c",
        o=org_spec.org_id,
        c=item["user_id"],
    )
    assert [b[0] for b in balances] == [110]


async def test_v11_referral_rewards_both_customers_like_the_seed(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100, campaigns=[REFERRAL_CAMPAIGN])
    referrer = await api.add_one(shopper("919876500010"))
    code = await referral_code(api, referrer["user_id"])
    item = await api.add_one(shopper("919876500011", referral_code=code.lower()))
    me, them = str(item["user_id"]), str(referrer["user_id"])
    assert item["side_effects"]["effect"] == [
        {"awarded_points": 100, "total_points": 100, "customer_id": me, "type": "points"},
        {"awarded_points": 100, "total_points": 200, "customer_id": me, "type": "points"},
        {"awarded_points": 100, "customer_id": them, "is_referrer": "true", "type": "points"},
    ]
    assert item["loyalty_points"] == 200
    assert await ledger_points(database_url, org_spec.org_id, referrer["user_id"]) == 200
    again = (await api.get(mobile="919876500010")).json()["response"]["customers"]["customer"][0]
    assert again["loyalty_points"] == 200


async def test_v11_update_earns_nothing_a_second_time(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100, COUPON, CURRENCY)
    first = await api.add_one(shopper("919876500020"))
    assert len(first["side_effects"]["effect"]) == 3
    second = await api.add_one(shopper("919876500020", firstname="Thomas"))
    assert second["item_status"]["message"] == "Customer successfully updated"
    assert second["side_effects"] == {"effect": []}
    assert second["loyalty_points"] == 100
    assert await ledger_points(database_url, org_spec.org_id, first["user_id"]) == 100
    coupons = await query(database_url, "SELECT count(*) FROM coupons WHERE org_id = :o", o=org_spec.org_id)
    assert coupons[0][0] == 1


async def test_v11_conversion_to_loyalty_earns_the_welcome_rewards_once(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100)
    first = await api.add_one(shopper("919876500021", type="NON_LOYALTY"))
    assert first["side_effects"] == {"effect": []}
    joined = await api.add_one(shopper("919876500021", type="LOYALTY"))
    assert joined["side_effects"]["effect"][0]["awarded_points"] == 100
    assert joined["loyalty_points"] == 100
    again = await api.add_one(shopper("919876500021", type="LOYALTY"))
    assert again["side_effects"] == {"effect": []}
    assert again["loyalty_points"] == 100


@pytest.mark.parametrize(
    ("setup", "code"),
    [("unknown", "1203"), ("no_campaign", "1202"), ("update", "1205"), ("self", "1204")],
)
async def test_v11_referral_problems_are_warnings_never_silent(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec, setup: str, code: str
) -> None:
    campaign = {**REFERRAL_CAMPAIGN, "sources": ["WECHAT"]} if setup == "no_campaign" else REFERRAL_CAMPAIGN
    api = await loyalty_api(client, database_url, org_spec, POINTS_100, campaigns=[campaign])
    referrer = await api.add_one(shopper("919876500030"))
    real = await referral_code(api, referrer["user_id"])
    if setup == "update":
        await api.add_one(shopper("919876500032"))
    mobile = {"update": "919876500032", "self": "919876500030"}.get(setup, "919876500031")
    used = {"unknown": "NOSUCH99", "self": real}.get(setup, real)
    item = await api.add_one(shopper(mobile, referral_code=used))
    assert item["item_status"]["success"] == "true"
    assert code in item["item_status"]["warnings"]["warning"]
    assert not any(e.get("is_referrer") for e in item["side_effects"]["effect"])
    assert await ledger_points(database_url, org_spec.org_id, referrer["user_id"]) == 100


async def test_v11_referral_limit_stops_the_referrer_earning(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    campaign = {**REFERRAL_CAMPAIGN, "max_referrals": 1}
    api = await loyalty_api(client, database_url, org_spec, campaigns=[campaign])
    referrer = await api.add_one(shopper("919876500040"))
    code = await referral_code(api, referrer["user_id"])
    first = await api.add_one(shopper("919876500041", referral_code=code))
    assert [e.get("is_referrer") for e in first["side_effects"]["effect"]] == [None, "true"]
    second = await api.add_one(shopper("919876500042", referral_code=code))
    assert second["item_status"]["warnings"]["warning"] == ["1206"]
    assert await ledger_points(database_url, org_spec.org_id, referrer["user_id"]) == 100


async def test_v11_referral_chain_pays_each_direct_referrer(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, campaigns=[REFERRAL_CAMPAIGN])
    a = await api.add_one(shopper("919876500050"))
    b = await api.add_one(shopper("919876500051", referral_code=await referral_code(api, a["user_id"])))
    c = await api.add_one(shopper("919876500052", referral_code=await referral_code(api, b["user_id"])))
    points = {
        who: await ledger_points(database_url, org_spec.org_id, item["user_id"])
        for who, item in (("a", a), ("b", b), ("c", c))
    }
    assert points == {"a": 100, "b": 200, "c": 100}


async def test_skip_downstream_stores_the_customer_like_an_import(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100, COUPON)
    item = await api.add_one(shopper("919876500060"), headers={"SKIP-DOWNSTREAM": "true"})
    assert item["item_status"]["code"] == "1000"
    assert item["side_effects"] == {"effect": []}
    assert item["loyalty_points"] == 0
    assert await ledger_points(database_url, org_spec.org_id, item["user_id"]) == 0
    assert await events_of(database_url, org_spec.org_id) == []
    payload = (await api.v2_add(v2_customer(("mobile", "919876500061")), {"SKIP-DOWNSTREAM": "true"})).json()
    assert payload["sideEffects"] == []
    assert await events_of(database_url, org_spec.org_id) == []


async def test_wait_for_downstream_false_applies_but_does_not_report(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100)
    item = await api.add_one(shopper("919876500070"), headers={"WAIT_FOR_DOWNSTREAM": "false"})
    assert item["side_effects"] == {"effect": []}
    assert await ledger_points(database_url, org_spec.org_id, item["user_id"]) == 100
    payload = (
        await api.v2_add(v2_customer(("mobile", "919876500071")), {"WAIT-FOR-DOWNSTREAM": "false"})
    ).json()
    assert payload["sideEffects"] == []
    assert await ledger_points(database_url, org_spec.org_id, payload["createdId"]) == 100


async def test_raw_side_effects_add_award_date_expiry_and_rule(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100)
    item = await api.add_one(shopper("919876500080"), rawSideEffects="true")
    (effect,) = item["side_effects"]["effect"]
    assert effect["rule_id"] == "WELCOME-PTS"
    assert effect["raw_awarded_points"] == 100.0
    assert effect["expiry_date"].endswith("23:59:59")
    payload = (await api.v2_add(v2_customer(("mobile", "919876500081")), rawSideEffects="true")).json()
    (side,) = payload["sideEffects"]
    assert side["strategyIds"] == ["WELCOME-PTS"]
    assert side["programId"] == 469
    assert side["totalPoints"] == 100
    assert side["awardedOn"].endswith("Z")
    assert side["expiryDate"].endswith("T18:29:59Z")


async def test_mlp_single_enroll_joins_every_programme_and_earns_each(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    second = [{"id": "SECOND-PTS", "points": 10}]
    api = await loyalty_api(client, database_url, org_spec, POINTS_100, second=second)
    item = await api.add_one(shopper("919876500090"), mlp_single_enroll="true")
    programs = {s["programId"]: s["loyaltyPoints"] for s in item["points_summaries"]["points_summary"]}
    assert programs == {"469": "100", "1204": "10"}
    only = await api.add_one(shopper("919876500091"))
    assert [s["programId"] for s in only["points_summaries"]["points_summary"]] == ["469"]


async def test_points_reaching_a_tier_threshold_lift_the_tier(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, {"id": "BIG", "points": 600})
    item = await api.add_one(shopper("919876500095"))
    assert item["current_slab"] == "Bronze"
    local_today = dt.datetime.now(dt.timezone(dt.timedelta(hours=5, minutes=30))).date()
    assert item["tier_expiry_date"] == f"{local_today + dt.timedelta(days=365)} 23:59:59"
    assert "tier.changed" in await events_of(database_url, org_spec.org_id, item["user_id"])


async def test_a_failed_item_leaves_no_reward_and_no_event(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100)
    response = await api.add(shopper("919876500096"), shopper("not-a-number"))
    items = response.json()["response"]["customers"]["customer"]
    assert [i["item_status"]["success"] for i in items] == ["true", "false"]
    rows = await query(
        database_url, "SELECT count(*) FROM reward_ledger WHERE org_id = :o", o=org_spec.org_id
    )
    assert rows[0][0] == 1
    assert await events_of(database_url, org_spec.org_id) == ["customer.registered", "points.awarded"]


# ---- v2 ---------------------------------------------------------------------------------


async def test_v2_mobile_app_points_like_the_seed(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, APP_POINTS)
    body = v2_customer(
        ("mobile", "919876500100"), source="MOBILE_APP", profile={"accountId": "testmobilepush1"}
    )
    payload = (await api.v2_add(body)).json()
    assert payload["sideEffects"] == [
        {"entityType": "USER", "rawAwardedPoints": 75.0, "awardedPoints": 75, "type": "points"}
    ]
    instore = (await api.v2_add(v2_customer(("mobile", "919876500101")))).json()
    assert instore["sideEffects"] == []


async def test_v2_points_round_but_raw_points_do_not(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, {"id": "ODD", "points": "75.5"})
    payload = (await api.v2_add(v2_customer(("mobile", "919876500102")))).json()
    assert payload["sideEffects"][0]["rawAwardedPoints"] == 75.5
    assert payload["sideEffects"][0]["awardedPoints"] == 76


async def test_v2_coupons_and_currency_like_the_seed(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    dsg = {"id": "DSG", "coupon_series": 12}
    api = await loyalty_api(
        client, database_url, org_spec, {"id": "P200", "points": 200}, COUPON, dsg, CURRENCY
    )
    payload = (await api.v2_add(v2_customer(("mobile", "919876500110")))).json()
    points, welcome, dollars, currency = payload["sideEffects"]
    assert points == {"entityType": "USER", "rawAwardedPoints": 200.0, "awardedPoints": 200, "type": "points"}
    assert list(welcome) == [
        "id",
        "entityType",
        "couponType",
        "couponCode",
        "validTill",
        "description",
        "discountCode",
        "trimmedCouponCode",
        "type",
    ]
    assert (welcome["couponType"], welcome["description"], welcome["discountCode"]) == (
        "PE",
        WELCOME,
        "NO_VALUE",
    )
    assert welcome["trimmedCouponCode"] == welcome["couponCode"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT18:29:59Z", welcome["validTill"])
    assert re.fullmatch(r"\d{10}", dollars["couponCode"])
    assert dollars["description"] == "DSG - $5 Coupon"
    assert currency == {
        "entityType": "USER",
        "rawAwardedValue": 110.0,
        "alternateCurrencyIdentifier": "rgpws7",
        "alternateCurrencyName": "ac1",
        "awardedValue": 110,
        "type": "alternate_currency",
    }
    details = (await api.v2_get(f"/v2/customers/{payload['createdId']}")).json()
    assert details["alternateCurrencies"] == [{"identifier": "rgpws7", "name": "ac1", "balance": 110}]
    assert sorted(c["couponCode"] for c in details["coupons"]) == sorted(
        [welcome["couponCode"], dollars["couponCode"]]
    )


async def test_v2_referral_like_the_seed(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    campaign = {**REFERRAL_CAMPAIGN, "referee_rewards": []}
    api = await loyalty_api(client, database_url, org_spec, POINTS_100, campaigns=[campaign])
    referrer = (await api.v2_add(v2_customer(("mobile", "919876500120")))).json()["createdId"]
    code = await referral_code(api, referrer)
    payload = (await api.v2_add(v2_customer(("mobile", "919876500121"), referralCode=code))).json()
    me = payload["createdId"]
    assert payload["sideEffects"] == [
        {
            "entityType": "USER",
            "rawAwardedPoints": 100.0,
            "customerId": me,
            "awardedPoints": 100,
            "type": "points",
        },
        {
            "entityType": "USER",
            "rawAwardedPoints": 100.0,
            "customerId": referrer,
            "awardedPoints": 100,
            "type": "points",
            "isReferrer": True,
        },
    ]
    bad = (await api.v2_add(v2_customer(("mobile", "919876500122"), referralCode="NOPE2345"))).json()
    assert [w["code"] for w in bad["warnings"]] == [8107, 1203]  # no status labels configured


async def test_v2_merge_earns_nothing_unless_the_reward_says_so(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    linking = {"id": "LINK-WECHAT", "points": 50, "sources": ["WECHAT"], "on_merge": True}
    api = await loyalty_api(client, database_url, org_spec, POINTS_100, linking)
    created = (await api.v2_add(v2_customer(("mobile", "919876500130")))).json()
    assert [e["awardedPoints"] for e in created["sideEffects"]] == [100]
    wechat = {"accountId": "wx-1"}
    merged = (
        await api.v2_add(v2_customer(("mobile", "919876500130"), source="WECHAT", profile=wechat))
    ).json()
    assert 8050 in [w["code"] for w in merged["warnings"]]
    assert [e["awardedPoints"] for e in merged["sideEffects"]] == [50]
    other = {"accountId": "wx-2"}
    again = (await api.v2_add(v2_customer(("mobile", "919876500130"), source="WECHAT", profile=other))).json()
    assert again["sideEffects"] == []
    assert await ledger_points(database_url, org_spec.org_id, created["createdId"]) == 150
    kinds = await events_of(database_url, org_spec.org_id, created["createdId"])
    assert kinds == [
        "customer.registered",
        "points.awarded",
        "customer.merged",
        "points.awarded",
        "customer.merged",
    ]


async def test_v2_opening_points_go_through_the_ledger(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec)
    body = v2_customer(
        ("mobile", "919876500140"),
        loyaltyInfo={"loyaltyType": "loyalty"},
        loyaltyProgramEnrollments=[{"programId": 469, "tierNumber": 1, "loyaltyPoints": 40}],
    )
    payload = (await api.v2_add(body)).json()
    assert payload["sideEffects"] == [
        {"entityType": "USER", "rawAwardedPoints": 40.0, "awardedPoints": 40, "type": "points"}
    ]
    assert await ledger_points(database_url, org_spec.org_id, payload["createdId"]) == 40


async def test_ledger_and_balances_agree_after_many_registrations(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100, campaigns=[REFERRAL_CAMPAIGN])
    first = await api.add_one(shopper("919876500200"))
    code = await referral_code(api, first["user_id"])
    batch = [shopper(f"9198765002{i:02d}", referral_code=code) for i in range(1, 20)]
    response = await api.add(*batch)
    assert response.status_code == 200
    rows = await query(
        database_url,
        "SELECT e.customer_id, e.loyalty_points, COALESCE(SUM(l.value), 0) FROM enrolments e"
        " LEFT JOIN reward_ledger l ON l.org_id = e.org_id AND l.customer_id = e.customer_id"
        " AND l.program_id = e.program_id WHERE e.org_id = :o GROUP BY e.customer_id, e.loyalty_points",
        o=org_spec.org_id,
    )
    assert len(rows) == 20
    assert all(balance == total for _, balance, total in rows)
    assert {r[0]: r[1] for r in rows}[first["user_id"]] == 100 + 3 * 100  # max_referrals 3


async def test_v11_xml_answers_carry_the_side_effects(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec
) -> None:
    api = await loyalty_api(client, database_url, org_spec, POINTS_100, COUPON)
    response = await api.add(shopper("919876500300"), format="xml")
    body = xmltodict.parse(response.content)
    effects = body["response"]["customers"]["customer"]["side_effects"]["effect"]
    assert [e["type"] for e in effects] == ["points", "coupon"]
    assert effects[0]["awarded_points"] == "100"
    assert effects[1]["description"] == WELCOME
