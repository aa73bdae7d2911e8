"""Issue 19: what the seeds name that registration got wrong, one test per rule, citing the seed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import V2_SEED_ORG, Api, OrgSpec, load_org

pytestmark = pytest.mark.anyio


@pytest.fixture
async def v2_seed_api(app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec) -> Api:
    """An org configured as the v2 seeds' samples expect (card series 73, custom fields, …)."""
    org_spec.overrides = dict(V2_SEED_ORG)
    return await configured(app_client, database_url, org_spec)


async def configured(app_client: tuple[Any, httpx.AsyncClient], database_url: str, spec: OrgSpec) -> Api:
    await load_org(database_url, spec)
    return Api(app_client[1], spec)


def v2_body(*identifiers: tuple[str, str], **more: Any) -> dict[str, Any]:
    profile = {"source": "INSTORE", "identifiers": [{"type": t, "value": v} for t, v in identifiers]}
    return {"profiles": [profile], **more}


@pytest.mark.parametrize(
    ("switch", "identifiers", "missing"),
    [
        ("CONF_USERS_IS_MOBILE_REQUIRED", [("email", "rq1@example.com")], "mobile"),
        ("CONF_USERS_IS_EMAIL_REQUIRED", [("mobile", "919876540010")], "email"),
        ("CONF_USERS_IS_EXTERNAL_ID_REQUIRED", [("mobile", "919876540011")], "external_id"),
    ],
)
async def test_v2_applies_the_required_identifier_switches(
    app_client: tuple[Any, httpx.AsyncClient],
    database_url: str,
    org_spec: OrgSpec,
    switch: str,
    identifiers: list[tuple[str, str]],
    missing: str,
) -> None:
    """Seed 000 line 514: "CONF_USERS_IS_EXTERNAL_ID_REQUIRED — When enabled, external ID becomes
    a mandatory identifier for registration" (hosted-api-notes: 1006/1039/1043 in v1.1). v2 has
    no code of its own: 8005 names what is missing, and nothing is registered."""
    org_spec.configs = {switch: True}
    api = await configured(app_client, database_url, org_spec)
    response = await api.v2_add(v2_body(*identifiers))
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == 8005
    assert missing in response.text
    kind, value = identifiers[0]
    lookup = {"source": "INSTORE", "identifierName": kind, "identifierValue": value}
    found = await api.v2_get("/v2/customers/lookup", **lookup)
    assert found.status_code == 400  # nobody was registered
    complete = {"mobile": ("mobile", "919876540019"), "email": ("email", "rq9@example.com")}
    complete["external_id"] = ("externalId", "EXT-RQ-9")
    ok = await api.v2_add(v2_body(*identifiers, complete[missing]))
    assert ok.status_code == 200, ok.text


async def test_v2_reads_loyalty_type_at_the_top_level(api: Api) -> None:
    """Seed 003 line 37: "loyaltyType enum Loyalty status of the customer. Value: loyalty,
    non_loyalty" at the top level of the body: a non-loyalty customer is not enrolled."""
    response = await api.v2_add(v2_body(("mobile", "919876540020"), loyaltyType="non_loyalty"))
    assert response.status_code == 200, response.text
    customer = (await api.v2_get(f"/v2/customers/{response.json()['createdId']}")).json()
    assert customer["loyaltyInfo"]["loyaltyType"] == "non_loyalty"
    assert customer["loyaltyProgramDetails"] == []
    both = v2_body(("mobile", "919876540021"), loyaltyType="LOYALTY", loyaltyInfo={"loyaltyType": "loyalty"})
    assert (await api.v2_add(both)).status_code == 200


async def test_v2_refuses_two_loyalty_types_that_disagree(api: Api) -> None:
    """Seed 003 line 37 (top level) against loyaltyInfo.loyaltyType (the hosted examples): when
    both are sent and differ, nothing is guessed and nothing registered."""
    info = {"loyaltyType": "loyalty"}
    body = v2_body(("mobile", "919876540022"), loyaltyType="non_loyalty", loyaltyInfo=info)
    response = await api.v2_add(body)
    assert response.status_code == 400, response.text
    assert "disagree" in response.text


async def test_a_dummy_customer_reaches_only_its_endpoints(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    """Seed 003 line 79: "endPointsEnabled array — Use this to add dummy customers (for internal
    or testing purposes) and specify the respective endpoints. Values: REFERRAL_ENDPOINT,
    DVS_ENDPOINT, TIMELINE_ENDPOINT, POINTENGINE_ENDPOINT." Only those named are reached."""
    from tests.rewards_support import REFERRAL_CAMPAIGN, events_of, ledger_points, loyalty_api, query

    points = {"id": "WELCOME-PTS", "points": 100}
    coupon = {"id": "WELCOME-CPN", "coupon_series": 11}
    campaigns = [REFERRAL_CAMPAIGN]
    api = await loyalty_api(app_client[1], database_url, org_spec, points, coupon, campaigns=campaigns)
    dummy = await api.v2_add(v2_body(("mobile", "919876540030"), endPointsEnabled=["DVS_ENDPOINT"]))
    assert dummy.status_code == 200, dummy.text
    assert [e["type"] for e in dummy.json()["sideEffects"]] == ["coupon"]  # no points engine
    dummy_id = dummy.json()["createdId"]
    assert await ledger_points(database_url, org_spec.org_id, dummy_id) == 0
    assert await events_of(database_url, org_spec.org_id, dummy_id) == []  # no timeline
    codes = "SELECT code FROM referral_codes WHERE org_id = :o AND customer_id = :c"
    assert await query(database_url, codes, o=org_spec.org_id, c=dummy_id) == []  # no referral
    read = (await api.v2_get(f"/v2/customers/{dummy_id}")).json()
    assert read["endPointsEnabled"] == ["DVS_ENDPOINT"]

    # Nested in the enrolment, as seed 003 lays it out, and the notes' POINTSENGINE spelling.
    enrolment = {"programId": 469, "endPointsEnabled": ["POINTSENGINE_ENDPOINT", "timeline_endpoint"]}
    nested = await api.v2_add(v2_body(("mobile", "919876540031"), loyaltyProgramEnrollments=[enrolment]))
    assert nested.status_code == 200, nested.text
    nested_id = nested.json()["createdId"]
    assert [e["type"] for e in nested.json()["sideEffects"]] == ["points"]
    assert "customer.registered" in await events_of(database_url, org_spec.org_id, nested_id)
    read = (await api.v2_get(f"/v2/customers/{nested_id}")).json()
    assert read["endPointsEnabled"] == ["TIMELINE_ENDPOINT", "POINTENGINE_ENDPOINT"]

    real = await api.v2_add(v2_body(("mobile", "919876540032")))
    assert sorted(e["type"] for e in real.json()["sideEffects"]) == ["coupon", "points"]
    assert "endPointsEnabled" not in (await api.v2_get(f"/v2/customers/{real.json()['createdId']}")).json()
    bad = await api.v2_add(v2_body(("mobile", "919876540033"), endPointsEnabled=["EVERYTHING"]))
    assert bad.status_code == 400
    assert "EVERYTHING" in bad.text


async def test_activity_is_stored_and_read_back(api: Api) -> None:
    """Seed 003 line 52: "activity enum — State of the customer's lifecycle"."""
    created = await api.v2_add(v2_body(("mobile", "919876540040"), activity="ACTIVE"))
    assert created.status_code == 200, created.text
    read = (await api.v2_get(f"/v2/customers/{created.json()['createdId']}")).json()
    assert read["activity"] == "ACTIVE"


@pytest.mark.parametrize(
    ("spelled", "account", "stored"),
    [
        ("WebEngage", None, None),
        ("E-commerce", None, "ECOMMERCE"),
        ("Mobile App", "testmobilepush1", "MOBILE_APP"),
        ("InStore", None, "INSTORE"),
        ("WeChat", "wx-1", "WECHAT"),
        ("Line", "2001914141242", "LINE"),
    ],
)
async def test_sources_as_seed_000_spells_them(
    api: Api, spelled: str, account: str | None, stored: str | None
) -> None:
    """Seed 000's source list: "WebEngage", "E-commerce", "Mobile App" (and InStore, WeChat,
    Line) name the org's sources whatever their case and punctuation. WEB_ENGAGE is no source
    of the test org: its spelling is recognised and the org's refusal names it."""
    mobile = f"91987654{abs(hash(spelled)) % 10000:04d}"
    item = {"mobile": mobile, "source": spelled, **({"accountId": account} if account else {})}
    added = await api.add_one(item)
    if stored is None:
        assert added["item_status"]["success"] == "false"
        assert "WEB_ENGAGE" in added["item_status"]["message"] + str(added["item_status"])
        return
    assert added["item_status"]["success"] == "true", added["item_status"]
    profile = {"source": spelled, **({"accountId": account} if account else {})}
    body = {"profiles": [{**profile, "identifiers": [{"type": "email", "value": f"s{mobile}@example.com"}]}]}
    v2 = await api.v2_add(body)
    assert v2.status_code == 200, v2.text
    read = (await api.v2_get(f"/v2/customers/{v2.json()['createdId']}")).json()
    assert read["profiles"][0]["source"] == stored
    params = {"source": spelled, "identifierName": "email", "identifierValue": f"s{mobile}@example.com"}
    if account:
        params["accountId"] = account
    assert (await api.v2_get("/v2/customers/lookup", **params)).status_code == 200


@pytest.mark.parametrize(
    "fraud_status",
    [[{"status": "FRAUD"}], ["fraud"], {"status": "FRAUD"}, [{"status": "FRAUD"}, {"status": "FRAUD"}]],
    ids=["array-of-objects", "array-of-strings", "object", "repeated"],
)
async def test_fraud_status_as_an_array(api: Api, fraud_status: Any) -> None:
    """Seed 000 line 144: "fraud_status Array Optional Customer's fraud status. Values allowed
    are NORMAL, OUTLIER, FRAUD, INTERNAL, INVALID", line 145: ".status enum"."""
    mobile = f"9198765410{abs(hash(str(fraud_status))) % 100:02d}"
    added = await api.add_one({"mobile": mobile, "fraud_status": fraud_status})
    assert added["item_status"]["success"] == "true", added["item_status"]
    got = await api.get(mobile=mobile)
    assert "FRAUD" in got.text


async def test_fraud_status_array_with_two_statuses_is_refused(api: Api) -> None:
    """Seed 000 line 144: one customer has one fraud status; an array naming two is not guessed at."""
    two = [{"status": "FRAUD"}, {"status": "NORMAL"}]
    added = await api.add_one({"mobile": "919876541099", "fraud_status": two})
    assert added["item_status"]["code"] == "400"
    assert "fraud_status" in added["item_status"]["message"]


async def test_v2_email_over_255_characters_keeps_the_first_255(api: Api) -> None:
    """Seed 002 line 201 / seed 004 line 125: "The character limit for an email can go up to 255
    characters. Characters exceeding this limit is ignored by the system." An email whose first
    255 characters are a whole address keeps them; one cut inside its domain is an invalid
    email (dropped with 8055 as a secondary identifier)."""
    local = "a" * 64
    domain = ".".join(["d" * 60, "e" * 60, "f" * 60]) + ".com"  # 64 + 1 + 186 = 251 characters
    email = f"{local}@{domain}"
    assert len(email) == 251
    sent = email + "xxxxxxxxxx"  # 261: the excess is ignored, ".comxxxx" is kept
    body = v2_body(("mobile", "919876541200"), ("email", sent))
    response = await api.v2_add(body)
    assert response.status_code == 200, response.text
    read = (await api.v2_get(f"/v2/customers/{response.json()['createdId']}")).json()
    kept = [i["value"] for i in read["profiles"][0]["identifiers"] if i["type"] == "email"]
    assert kept == [sent[:255].lower()]


async def test_a_card_needs_its_status_label(v2_seed_api: Api) -> None:
    """Seed 003 lines 56-57: "statusLabel string User defined card status. Required for the
    identifier type: card." A card without one is refused (8302), never given a default."""
    card = {"type": "cardnumber", "value": "12345670", "seriesId": 73}
    body = v2_body(("mobile", "919876541301"))
    body["profiles"][0]["identifiers"].append(card)
    response = await v2_seed_api.v2_add(body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["code"] == 8302
    assert "statusLabel is required" in response.text


async def test_card_extended_fields_are_checked_like_the_customers(v2_seed_api: Api) -> None:
    """Seed 003 line 68: "extendedFields obj Customer or card level extended field details …
    You can only pass extended fields that are enabled for your org with the respective
    datatype values." The org enables `custom_card_name` for cards; `gender` is a customer's."""

    def with_card(mobile: str, extended: dict[str, Any]) -> dict[str, Any]:
        body = v2_body(("mobile", mobile))
        card = {"type": "cardnumber", "value": f"1{mobile[-7:]}", "seriesId": 73, "statusLabel": "ACTIVE"}
        body["profiles"][0]["identifiers"].append({**card, "extendedFields": extended})
        return body

    ok = await v2_seed_api.v2_add(with_card("919876541310", {"custom_card_name": "Mystays"}))
    assert ok.status_code == 200, ok.text
    read = (await v2_seed_api.v2_get(f"/v2/customers/{ok.json()['createdId']}")).json()
    assert read["cardDetails"][0]["extendedFields"] == {"custom_card_name": "Mystays"}
    for extended in ({"gender": "Male"}, {"no_such_field": "x"}, {"custom_card_name": "x" * 101}):
        refused = await v2_seed_api.v2_add(with_card("919876541311", extended))
        assert refused.status_code == 400, (extended, refused.text)
        assert refused.json()["errors"][0]["code"] == 8305
        assert "card extendedFields" in refused.text


@pytest.mark.parametrize("name", ["Tom_1!", "<b>Tom</b>", "Tom;DROP"])
async def test_v2_names_follow_the_same_characters_as_v1_1(api: Api, name: str) -> None:
    """Seed 002 line 187: "First Name: Alphanumeric, spaces, hyphens, and apostrophes
    supported. Last Name: Alphanumeric, spaces, hyphens, and apostrophes supported" (seed 000
    line 136 says the same for v1.1): one rule for both versions, on registration and update."""
    body = v2_body(("mobile", "919876541400"))
    body["profiles"][0]["firstName"] = name
    refused = await api.v2_add(body)
    assert refused.status_code == 400, refused.text
    assert "firstName" in refused.text
    v11 = await api.add_one({"mobile": "919876541401", "firstname": name})
    assert v11["item_status"]["code"] == "400"
    ok = await api.v2_add(v2_body(("mobile", "919876541402")) | {})
    created = ok.json()["createdId"]
    update = {"profiles": [{"source": "INSTORE", "lastName": name}]}
    changed = await api.client.put(f"/v2/customers/{created}", json=update, headers=api.auth)
    assert changed.status_code == 400, changed.text
    fine = v2_body(("mobile", "919876541403"))
    fine["profiles"][0]["firstName"] = "Anne-Marie O'Neil 2"
    assert (await api.v2_add(fine)).status_code == 200


async def test_associated_with_needs_the_base_store_switch(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    """Seed 002 line 117: associatedWith — "To use this parameter, you must enable the
    USE_CRM_REGISTRATION_INFO_FROM_BASE_STORE configuration." Off: ignored with 8077."""
    org_spec.configs = {}
    api = await configured(app_client, database_url, org_spec)
    off = await api.v2_add(v2_body(("mobile", "919876541500"), associatedWith=org_spec.till))
    assert off.status_code == 200, off.text
    assert 8077 in [w["code"] for w in off.json()["warnings"]]  # (8107: the org has no default label)
    assert "USE_CRM_REGISTRATION_INFO_FROM_BASE_STORE" in off.text
    read = (await api.v2_get(f"/v2/customers/{off.json()['createdId']}")).json()
    assert read["associatedWith"] is None
    org_spec.configs = {"USE_CRM_REGISTRATION_INFO_FROM_BASE_STORE": True}
    await load_org(database_url, org_spec)
    on = await api.v2_add(v2_body(("mobile", "919876541501"), associatedWith=org_spec.till))
    assert 8077 not in [w["code"] for w in on.json()["warnings"]]
    read = (await api.v2_get(f"/v2/customers/{on.json()['createdId']}")).json()
    assert read["associatedWith"] == org_spec.till


def _luhn_ok(number: str) -> bool:
    from memberbase.domain.cards import luhn_valid

    return luhn_valid(number)


async def test_external_ids_are_generated_only_when_switched_on(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    """Seed 000 line 548: "Auto-generation of external ID must be explicitly enabled if required
    by your registration process." Off by default; on, a customer registered without one gets
    prefix + sequence + Luhn digit (the hosted card-number format), in v1.1 (one and a batch)
    and v2; one the caller sends is kept."""
    api = await configured(app_client, database_url, org_spec)
    plain = await api.add_one({"mobile": "919876541600"})
    assert plain["external_id"] in ("", None)
    org_spec.configs = {
        "CONF_GEN_CARD_NUMBER_AS_EXTERNAL_ID_ENABLED": True,
        "CONF_CARD_NUMBER_PREFIX": "77",
        "CONF_CARD_NUMBER_LENGTH": 10,
    }
    await load_org(database_url, org_spec)
    one = await api.add_one({"mobile": "919876541601"})
    batch = await api.add({"mobile": "919876541602"}, {"mobile": "919876541603"})
    items = batch.json()["response"]["customers"]["customer"]
    kept = await api.add_one({"mobile": "919876541604", "external_id": "MINE-1"})
    v2 = await api.v2_add(v2_body(("mobile", "919876541605")))
    v2_read = (await api.v2_get(f"/v2/customers/{v2.json()['createdId']}")).json()
    v2_ids = [i["value"] for i in v2_read["profiles"][0]["identifiers"] if i["type"] == "externalId"]
    generated = [one["external_id"], items[0]["external_id"], items[1]["external_id"], *v2_ids]
    assert len(set(generated)) == 4
    for value in generated:
        assert len(value) == 10
        assert value.startswith("77")
        assert _luhn_ok(value)
    assert kept["external_id"] == "MINE-1"
    looked_up = await api.get(external_id=generated[0])
    assert looked_up.status_code == 200, looked_up.text


async def test_generated_external_ids_follow_the_source_accounts_named(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    """SOURCE_ACCOUNTS_EXTERNALID_ENABLED (hosted notes): only the source accounts named get one."""
    org_spec.configs = {
        "CONF_GEN_CARD_NUMBER_AS_EXTERNAL_ID_ENABLED": True,
        "SOURCE_ACCOUNTS_EXTERNALID_ENABLED": ["WeChat:wx-1"],
        "CONF_CARD_CHECKSUM_DIGIT_ALGO": "AUTO_INC",
    }
    api = await configured(app_client, database_url, org_spec)
    instore = await api.add_one({"mobile": "919876541610"})
    assert instore["external_id"] in ("", None)
    wechat = await api.add_one({"mobile": "919876541611", "source": "WECHAT", "accountId": "wx-1"})
    assert wechat["external_id"] == "000000000001"  # AUTO_INC: the sequence alone, 12 long


async def test_a_mobile_without_country_code_is_refused_with_what_to_do(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    """Seed 002's samples send "4567890" / seed 003's "8795779625"; the seeds also require the
    country code ("enter the mobile number with the country code"). The rule stays, and the
    refusal says what to do; with CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED the number registers."""
    api = await configured(app_client, database_url, org_spec)
    v2 = await api.v2_add(v2_body(("mobile", "8795779625")))
    assert v2.status_code == 400
    assert v2.json()["errors"][0]["code"] == 8014
    assert "CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED" in v2.text
    v11 = await api.add_one({"mobile": "8795779625"})
    assert v11["item_status"]["code"] == "1006"
    assert "country code" in v11["item_status"]["message"] + str(v11["item_status"])
    letters = await api.add_one({"mobile": "87957abc25"})
    assert "CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED" not in str(letters["item_status"])
    org_spec.configs = {"CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED": True}
    await load_org(database_url, org_spec)
    assert (await api.v2_add(v2_body(("mobile", "8795779625")))).status_code == 200


def test_the_demo_org_takes_national_mobiles() -> None:
    """Issue 19.16: the demo org shows the switch the seeds' national samples need."""
    from pathlib import Path

    import yaml

    demo = Path(__file__).resolve().parents[2] / "src" / "memberbase" / "demo.yaml"
    org = yaml.safe_load(demo.read_text())["orgs"][0]
    assert org["configs"]["CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED"] is True
