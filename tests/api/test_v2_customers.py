"""POST /v2/customers and the v2 reads: identity across sources, codes, cards, labels."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from memberbase.domain.cards import luhn_valid
from tests.support import V2_SEED_ORG, Api, OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio


@pytest.fixture
async def v2(app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec) -> Api:
    org_spec.overrides = dict(V2_SEED_ORG)
    await load_org(database_url, org_spec)
    return Api(app_client[1], org_spec)


def customer(*identifiers: tuple[str, str], source: str = "INSTORE", **extra: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "firstName": "Mark",
        "lastName": "Twain",
        "identifiers": [{"type": t, "value": v} for t, v in identifiers],
        "source": source,
    }
    profile.update(extra.pop("profile", {}))
    return {"profiles": [profile], **extra}


def codes(payload: dict[str, Any], key: str = "warnings") -> list[int]:
    return [p["code"] for p in payload.get(key, [])]


async def error_code(response: httpx.Response) -> int:
    assert response.status_code == 400, response.text
    payload = response.json()
    assert "createdId" not in payload
    assert payload["warnings"] == []
    assert payload["errors"][0]["status"] is False
    code: int = payload["errors"][0]["code"]
    return code


async def test_an_identifier_known_in_another_source_adds_a_source_account(v2: Api) -> None:
    first = (await v2.v2_add(customer(("mobile", "919988221100")))).json()
    merged = (
        await v2.v2_add(
            customer(
                ("mobile", "919988221100"),
                ("line", "U1"),
                source="LINE",
                profile={"accountId": "2001914141242"},
            )
        )
    ).json()
    assert merged["createdId"] == first["createdId"]
    assert merged["warnings"][-1] == {
        "status": False,
        "code": 8050,
        "message": "Same Customer found in other sources,Combining",
    }
    details = (await v2.v2_get(f"/v2/customers/{first['createdId']}")).json()
    assert [(p["source"], p["accountId"]) for p in details["profiles"]] == [
        ("INSTORE", ""),
        ("LINE", "2001914141242"),
    ]
    by_line = (
        await v2.v2_get(
            "/v2/customers/lookup",
            source="LINE",
            accountId="2001914141242",
            identifierName="line",
            identifierValue="U1",
        )
    ).json()
    assert by_line == {"entity": first["createdId"], "warnings": []}


async def test_the_same_source_account_again_fails_with_8006_and_changes_nothing(v2: Api) -> None:
    first = (await v2.v2_add(customer(("mobile", "919988221101")))).json()
    again = await v2.v2_add(customer(("mobile", "919988221101"), ("email", "new@example.com")))
    assert await error_code(again) == 8006
    assert again.json()["errors"][0]["message"].startswith("Customer already exists for same source")
    missing = await v2.v2_get(
        "/v2/customers/lookup", source="INSTORE", identifierName="email", identifierValue="new@example.com"
    )
    assert await error_code(missing) == 8015
    assert (await v2.v2_get(f"/v2/customers/{first['createdId']}")).json()["profiles"][0][
        "firstName"
    ] == "Mark"


async def test_identifiers_of_two_customers_fail_with_8052(v2: Api) -> None:
    await v2.v2_add(customer(("mobile", "919988221102")))
    await v2.v2_add(customer(("email", "other@example.com")))
    both = customer(("mobile", "919988221102"), ("email", "other@example.com"), source="ECOMMERCE")
    assert await error_code(await v2.v2_add(both)) == 8052


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (customer(("mobile", "919988221103"), source="TMALL"), 3217),
        (customer(("mobile", "919988221103"), source="ORKUT"), 3217),
        (customer(("mobile", "919988221103"), source="WECHAT", profile={"accountId": "nope"}), 3217),
        (customer(("mobile", "919988221103"), source="WECHAT"), 8045),
        (customer(("mobile", "919988221103"), source=""), 8004),
        (customer(("mobile", "12345")), 8014),
        (customer(("externalId", "x" * 251)), 8020),
        (customer(("fbId", "")), 8005),
        (customer(("shoeSize", "42")), 8005),
        ({"profiles": []}, 8084),
        (customer(("mobile", "919988221103"), statusLabel="vip"), 8086),
        (customer(("mobile", "919988221103"), extendedFields={"gender": "Robot"}), 8305),
        (customer(("mobile", "919988221103"), extendedFields={"shoe_size": "42"}), 8305),
        (customer(("mobile", "919988221103"), loyaltyProgramEnrollments=[{"programId": 1}]), 8306),
        (
            customer(
                ("mobile", "919988221103"), loyaltyProgramEnrollments=[{"programId": 469, "tierNumber": 9}]
            ),
            8307,
        ),
        (customer(("mobile", "919988221103"), createDate="2999-01-01T00:00:00+05:30"), 8017),
    ],
)
async def test_documented_and_memberbase_error_codes(v2: Api, body: dict[str, Any], code: int) -> None:
    assert await error_code(await v2.v2_add(body)) == code


async def test_an_invalid_primary_mobile_names_the_value(v2: Api) -> None:
    response = await v2.v2_add(customer(("mobile", "12345")))
    assert (
        response.json()["errors"][0]["message"]
        == "Error in customer registration: Invalid Primary Id - 12345"
    )


async def test_error_messages_name_the_bad_field(v2: Api) -> None:
    response = await v2.v2_add(customer(("mobile", "919988221104"), extendedFields={"age": "old"}))
    assert "age" in response.json()["errors"][0]["message"]


async def test_invalid_secondary_mobile_and_email_are_dropped_with_warnings(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.overrides = dict(V2_SEED_ORG)
    org_spec.configs = {"CONF_REGISTRATION_PRIMARY_KEY": "external_id"}
    await load_org(database_url, org_spec)
    v2 = Api(app_client[1], org_spec)
    response = await v2.v2_add(
        customer(("externalId", "EXT-9"), ("mobile", "123"), ("email", "not-an-email"))
    )
    payload = response.json()
    assert {8056, 8055} <= set(codes(payload))
    details = (await v2.v2_get(f"/v2/customers/{payload['createdId']}")).json()
    assert details["profiles"][0]["identifiers"] == [{"type": "externalId", "value": "EXT-9"}]


async def test_names_are_trimmed_and_cut_at_100_characters(v2: Api) -> None:
    body = customer(("mobile", "919988221105"), profile={"firstName": "  Ann  ", "lastName": "L" * 150})
    created = (await v2.v2_add(body)).json()["createdId"]
    profile = (await v2.v2_get(f"/v2/customers/{created}")).json()["profiles"][0]
    assert (profile["firstName"], len(profile["lastName"])) == ("Ann", 100)


async def test_source_and_account_id_may_come_as_query_parameters_body_wins(v2: Api) -> None:
    body = customer(("wechat", "wx-open-1"), source="")
    del body["profiles"][0]["source"]
    created = await v2.v2_add(body, source="WECHAT", accountId="wx-1")
    assert created.status_code == 200, created.text
    details = (await v2.v2_get(f"/v2/customers/{created.json()['createdId']}")).json()
    assert (details["profiles"][0]["source"], details["profiles"][0]["accountId"]) == ("WECHAT", "wx-1")
    body_wins = await v2.v2_add(customer(("mobile", "919988221106")), source="WECHAT", accountId="wx-1")
    details = (await v2.v2_get(f"/v2/customers/{body_wins.json()['createdId']}")).json()
    assert details["profiles"][0]["source"] == "INSTORE"


async def test_default_status_label_applies_when_none_is_passed(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.overrides = {
        **V2_SEED_ORG,
        "customer_status_labels": [{"label": "Member", "status": "Active", "default": True}],
    }
    await load_org(database_url, org_spec)
    api = Api(app_client[1], org_spec)
    payload = (await api.v2_add(customer(("mobile", "919988221107")))).json()
    assert 8107 not in codes(payload)
    details = (await api.v2_get(f"/v2/customers/{payload['createdId']}")).json()
    assert details["statusLabel"] == "Member"


async def test_cards_are_issued_checked_and_never_issued_twice(v2: Api) -> None:
    card = {"type": "cardnumber", "value": "12345678", "seriesId": 73, "statusLabel": "active"}
    body = customer(("mobile", "919988221108"))
    body["profiles"][0]["identifiers"].append(card)
    created = (await v2.v2_add(body)).json()["createdId"]
    assert (await v2.v2_get(f"/v2/customers/{created}")).json()["cardDetails"][0]["statusLabel"] == "ACTIVE"
    again = customer(("mobile", "919988221109"))
    again["profiles"][0]["identifiers"].append(card)
    assert await error_code(await v2.v2_add(again)) == 8303
    found = await v2.v2_get(
        "/v2/customers/lookup", source="INSTORE", identifierName="cardnumber", identifierValue="12345678"
    )
    assert found.json()["entity"] == created


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ({"type": "cardnumber", "value": "12345678", "seriesId": 99}, 8301),
        ({"type": "cardnumber", "value": "12345678", "seriesCode": "NOPE"}, 8301),
        ({"type": "cardnumber", "value": "12345678", "seriesId": 73, "statusLabel": "STOLEN"}, 8302),
        ({"type": "cardnumber", "value": "123", "seriesId": 73, "statusLabel": "ACTIVE"}, 8304),
        ({"type": "cardnumber", "seriesId": 73, "statusLabel": "ACTIVE"}, 8304),
        ({"type": "cardnumber", "value": "7700000001", "seriesId": 74, "statusLabel": "ACTIVE"}, 8304),
    ],
)
async def test_card_faults_are_clear_errors(v2: Api, card: dict[str, Any], code: int) -> None:
    body = customer(("mobile", "919988221110"))
    body["profiles"][0]["identifiers"].append(card)
    assert await error_code(await v2.v2_add(body)) == code


async def test_a_generating_series_numbers_cards_with_prefix_sequence_and_luhn(v2: Api) -> None:
    numbers = []
    for n in range(3):
        body = customer(("mobile", f"91998822112{n}"))
        body["profiles"][0]["identifiers"].append(
            {"type": "cardnumber", "seriesCode": "GEN", "statusLabel": "ACTIVE"}
        )
        created = (await v2.v2_add(body)).json()["createdId"]
        numbers.append((await v2.v2_get(f"/v2/customers/{created}")).json()["cardDetails"][0]["cardNumber"])
    assert [n[:2] for n in numbers] == ["77", "77", "77"]
    assert [int(n[2:9]) for n in numbers] == [1, 2, 3]  # prefix, 7-digit sequence, check digit
    assert all(luhn_valid(n) and len(n) == 10 for n in numbers)


async def test_v1_1_and_v2_share_one_customer_model(v2: Api) -> None:
    v1 = await v2.add_one({"mobile": "919988221130", "email": "both@example.com", "firstname": "Both"})
    found = (
        await v2.v2_get(
            "/v2/customers/lookup",
            source="INSTORE",
            identifierName="mobile",
            identifierValue="+91 99882 21130",
        )
    ).json()
    assert found["entity"] == v1["user_id"]
    details = (
        await v2.v2_get(
            "/v2/customers/lookup/customerDetails",
            source="INSTORE",
            identifierName="email",
            identifierValue="BOTH@example.com",
        )
    ).json()
    assert details["id"] == v1["user_id"]
    assert details["profiles"][0]["identifiers"] == [
        {"type": "mobile", "value": "919988221130"},
        {"type": "email", "value": "both@example.com"},
    ]
    # Registering it through v2 in its own source is a duplicate; in another source, a merge.
    assert await error_code(await v2.v2_add(customer(("mobile", "919988221130")))) == 8006
    merged = await v2.v2_add(customer(("mobile", "919988221130"), source="ECOMMERCE"))
    assert merged.json()["createdId"] == v1["user_id"]
    # And a v2 customer is found and updated by v1.1.
    created = (await v2.v2_add(customer(("mobile", "919988221131"), ("externalId", "V2-1")))).json()[
        "createdId"
    ]
    got = (await v2.get(external_id="V2-1", user_id="true")).json()["response"]["customers"]["customer"][0]
    assert (got["user_id"], got["mobile"], got["firstname"]) == (created, "919988221131", "Mark")


async def test_lookup_needs_source_and_identifier_and_the_named_account(v2: Api) -> None:
    await v2.v2_add(customer(("mobile", "919988221132")))
    assert (
        await error_code(
            await v2.v2_get("/v2/customers/lookup", identifierName="mobile", identifierValue="1")
        )
        == 8001
    )
    assert await error_code(await v2.v2_get("/v2/customers/lookup", source="INSTORE")) == 8002
    not_there = await v2.v2_get(
        "/v2/customers/lookup",
        source="WECHAT",
        accountId="wx-1",
        identifierName="mobile",
        identifierValue="919988221132",
    )
    assert await error_code(not_there) == 8015
    anywhere = await v2.v2_get(
        "/v2/customers/lookup", source="ALL", identifierName="mobile", identifierValue="919988221132"
    )
    assert isinstance(anywhere.json()["entity"], int)


async def test_reads_are_confined_to_the_callers_org(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, v2: Api, org_spec: OrgSpec
) -> None:
    created = (await v2.v2_add(customer(("mobile", "919988221133")))).json()["createdId"]
    other = OrgSpec(org_id=org_spec.org_id + 600_000, till=f"{org_spec.till}.x")
    await load_org(database_url, other)
    client = app_client[1]
    assert (await client.get(f"/v2/customers/{created}", headers=basic(other.till))).status_code == 400
    lookup = await client.get(
        "/v2/customers/lookup",
        params={"source": "INSTORE", "identifierName": "mobile", "identifierValue": "919988221133"},
        headers=basic(other.till),
    )
    assert lookup.json()["errors"][0]["code"] == 8015


async def test_extended_fields_endpoint_lists_the_enabled_fields_with_types(v2: Api) -> None:
    payload = (await v2.v2_get("/v2/extendedFields")).json()
    fields = {f["name"]: f for f in payload["entity"]["CUSTOMER"]}
    assert set(fields) == set(V2_SEED_ORG["extended_fields"])
    assert fields["age"]["dataType"] == "INTEGER"
    assert fields["gender"]["possibleValues"] == ["Male", "Female", "Other"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{bad", "application/json"),
        (b"[]", "application/json"),
        (b'{"profiles": "x"}', "application/json"),
        (b'{"profiles": [{"identifiers": [{"type": 5}]}]}', "application/json"),
        (
            b'{"profiles": [{"firstName": "a\\u0000b", "identifiers": [], "source": "INSTORE"}]}',
            "application/json",
        ),
        (b'{"profiles": [{"fields": {"x": "a\\u0007"}, "source": "INSTORE"}]}', "application/json"),
        (b'{"loyaltyProgramEnrollments": [{"programId": "abc"}], "profiles": []}', "application/json"),
    ],
)
async def test_bad_input_gets_a_v2_error_never_a_500(v2: Api, content: bytes, content_type: str) -> None:
    response = await v2.client.post(
        "/v2/customers", content=content, headers={**v2.auth, "Content-Type": content_type}
    )
    assert await error_code(response) == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/customers"),
        ("GET", "/v2/customers/1"),
        ("GET", "/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=1"),
        (
            "GET",
            "/v2/customers/lookup/customerDetails?source=INSTORE&identifierName=mobile&identifierValue=1",
        ),
        ("GET", "/v2/extendedFields"),
    ],
)
async def test_every_v2_route_refuses_missing_and_wrong_credentials(v2: Api, method: str, path: str) -> None:
    for headers in ({}, basic(v2.spec.till, "wrong")):
        response = await v2.client.request(method, path, headers=headers, json={"profiles": []})
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == 401


async def test_concurrent_registrations_of_one_identifier_make_one_customer(v2: Api) -> None:
    results: list[httpx.Response] = []

    async def register(source: str) -> None:
        results.append(await v2.v2_add(customer(("mobile", "919988221140"), source=source)))

    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(register, "INSTORE" if n % 2 else "ECOMMERCE")
    assert all(r.status_code in (200, 400) for r in results)
    ids = {r.json()["createdId"] for r in results if r.status_code == 200}
    assert len(ids) == 1
    errors = [r.json()["errors"][0]["code"] for r in results if r.status_code == 400]
    assert set(errors) <= {8006}
    assert len(errors) == 18  # one creates, one merges the other source, the rest are duplicates


async def test_a_v1_1_update_keeps_the_v2_identifiers_of_the_profile(v2: Api) -> None:
    body = customer(
        ("mobile", "919988221150"),
        ("cuid", "cuid-1"),
        source="MOBILE_APP",
        profile={"accountId": "testmobilepush1"},
    )
    created = (await v2.v2_add(body)).json()["createdId"]
    updated = await v2.add_one({"mobile": "919988221150", "email": "later@example.com", "firstname": "Later"})
    assert updated["user_id"] == created
    profile = (await v2.v2_get(f"/v2/customers/{created}")).json()["profiles"][0]
    assert {"type": "cuid", "value": "cuid-1"} in profile["identifiers"]
    assert {"type": "email", "value": "later@example.com"} in profile["identifiers"]
    assert profile["firstName"] == "Later"


@pytest.mark.parametrize(
    "path",
    [
        "/v2/customers/999999999999",
        "/v2/customers/not-a-number",
        "/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=919988221199",
        "/v2/customers/lookup/customerDetails?source=INSTORE&identifierName=mobile&identifierValue=919988221199",
    ],
)
async def test_customer_not_found_answers_400_with_8015_on_every_read(v2: Api, path: str) -> None:
    # The hosted get-by-id page lists 400 for an invalid identifier, the lookups 8015; 404 is
    # left for paths that name no resource at all (docs/decisions.md).
    assert await error_code(await v2.client.get(path, headers=v2.auth)) == 8015


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("MOBILE_APP", "pass accountId 'testmobilepush1', this organisation's MOBILE_APP account"),
        ("WECHAT", "pass accountId, one of this organisation's WECHAT accounts: 'wx-1', 'wx-2'"),
        ("WEB_ENGAGE", "WEB_ENGAGE takes an accountId, and this organisation has no WEB_ENGAGE account"),
    ],
)
async def test_8045_names_the_accounts_the_org_has(v2: Api, source: str, detail: str) -> None:
    response = await v2.v2_add(customer(("mobile", "919988221104"), source=source))
    assert await error_code(response) == 8045
    assert response.json()["errors"][0]["message"] == f"Account id is not passed: {detail}"


async def test_warning_1017_names_the_dropped_custom_fields_of_every_profile(v2: Api) -> None:
    body = {
        "profiles": [
            {
                "identifiers": [{"type": "mobile", "value": "919988221105"}],
                "source": "INSTORE",
                "fields": {"employee": "true", "shoe_size": "42"},
            },
            {
                "identifiers": [{"type": "email", "value": "f1017@example.com"}],
                "source": "ECOMMERCE",
                "fields": {"fax": "x" * 101, "city": "Pune"},
            },
        ],
        "statusLabel": "active-1",
    }
    payload = (await v2.v2_add(body)).json()
    assert payload["warnings"] == [
        {
            "status": False,
            "code": 1017,
            "message": "Provided Custom Field is invalid: shoe_size is not a custom field of this "
            "organisation; fax is longer than 100 characters",
        }
    ]


async def test_a_bad_source_answers_exactly_the_hosted_message(v2: Api) -> None:
    response = await v2.v2_add(customer(("mobile", "919988221109"), source="TMALL"))
    error = response.json()["errors"][0]
    assert error["code"] == 3217
    assert error["message"] == "Source is invalid"
    assert "TMALL" in error["detail"]
