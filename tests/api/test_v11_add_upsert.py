"""POST /v1.1/customer/add: known identifiers update, and the identifier-switch rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import Api, OrgSpec, item_code, load_org

pytestmark = pytest.mark.anyio


async def configured(app_client: tuple[Any, httpx.AsyncClient], database_url: str, spec: OrgSpec) -> Api:
    await load_org(database_url, spec)
    return Api(app_client[1], spec)


async def test_known_mobile_updates_the_customer_and_fills_empty_identifiers(api: Api) -> None:
    first = await api.add_one({"mobile": "919876510001", "firstname": "Tom"})
    again = await api.add_one(
        {
            "mobile": "+91 98765 10001",
            "firstname": "Thomas",
            "email": "Tom@Example.com",
            "external_id": "EXT1",
        }
    )
    assert again["user_id"] == first["user_id"]
    assert again["item_status"]["message"] == "Customer successfully updated"
    assert item_code(again) == "1000"
    assert (again["firstname"], again["email"], again["external_id"]) == ("Thomas", "tom@example.com", "EXT1")


async def test_email_compares_case_insensitively(api: Api) -> None:
    first = await api.add_one({"email": "Mixed.Case@Example.com"})
    again = await api.add_one({"email": "mixed.case@example.COM", "lastname": "Case"})
    assert again["user_id"] == first["user_id"]
    assert again["lastname"] == "Case"


async def test_empty_strings_do_not_erase_stored_values(api: Api) -> None:
    await api.add_one({"mobile": "919876510002", "firstname": "Kept", "email": "kept@example.com"})
    again = await api.add_one({"mobile": "919876510002", "firstname": "", "email": ""})
    assert (again["firstname"], again["email"]) == ("Kept", "kept@example.com")


async def test_changing_an_identifier_is_refused_with_91006_unless_allowed(api: Api) -> None:
    await api.add_one({"mobile": "919876510003", "email": "old@example.com"})
    again = await api.add_one({"mobile": "919876510003", "email": "new@example.com"})
    assert again["email"] == "old@example.com"
    assert again["item_status"]["warnings"]["warning"] == ["91006"]
    assert again["item_status"]["message"] == "Customer successfully updated, Email update is not allowed"


async def test_changing_an_identifier_is_done_when_its_switch_is_on(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.configs = {"CONF_ALLOW_EMAIL_UPDATE": True}
    api = await configured(app_client, database_url, org_spec)
    first = await api.add_one({"mobile": "919876510004", "email": "old@example.com"})
    again = await api.add_one({"mobile": "919876510004", "email": "new@example.com"})
    assert again["email"] == "new@example.com"
    assert again["item_status"]["warnings"]["warning"] == []
    # The old email is free again; the new one finds the same customer.
    by_new = (await api.get(email="new@example.com", user_id="true")).json()["response"]["customers"][
        "customer"
    ][0]
    assert by_new["user_id"] == first["user_id"]
    other = await api.add_one({"email": "old@example.com"})
    assert other["user_id"] != first["user_id"]


async def _two_customers(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    a = await api.add_one({"mobile": "919876510005", "email": "a@example.com"})
    b = await api.add_one({"mobile": "919876510006", "email": "b@example.com"})
    return a, b


async def test_identifiers_of_two_customers_without_switches_update_the_primary_owner(api: Api) -> None:
    a, _ = await _two_customers(api)
    item = await api.add_one({"mobile": "919876510005", "email": "b@example.com", "firstname": "Ann"})
    assert item["user_id"] == a["user_id"]
    assert item["email"] == "a@example.com"
    assert item["firstname"] == "Ann"
    assert item["item_status"]["warnings"]["warning"] == ["91007"]


async def test_strict_check_refuses_identifiers_of_two_customers_with_1047(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.configs = {"CONF_PRIMARY_IDENTIFIER_STRICT_CHECK": True}
    api = await configured(app_client, database_url, org_spec)
    await _two_customers(api)
    item = await api.add_one({"mobile": "919876510005", "email": "b@example.com"})
    assert item_code(item) == "1047"
    assert (
        item["item_status"]["message"] == "Customer's primary identifier not matching with other identifiers"
    )


async def test_strict_check_refuses_a_new_primary_with_a_known_secondary_with_1047(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.configs = {"CONF_PRIMARY_IDENTIFIER_STRICT_CHECK": True}
    api = await configured(app_client, database_url, org_spec)
    await _two_customers(api)
    assert item_code(await api.add_one({"mobile": "919876510007", "email": "a@example.com"})) == "1047"


async def test_skip_secondary_registers_the_new_primary_and_ignores_the_known_secondary(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    # Overrides the strict check, as the seeds say.
    org_spec.configs = {
        "CONFIG_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH": True,
        "CONF_PRIMARY_IDENTIFIER_STRICT_CHECK": True,
    }
    api = await configured(app_client, database_url, org_spec)
    a, _ = await _two_customers(api)
    item = await api.add_one({"mobile": "919876510008", "email": "a@example.com"})
    assert item_code(item) == "1000"
    assert item["item_status"]["message"].startswith("Customer registration successful")
    assert item["user_id"] != a["user_id"]
    assert item["email"] is None
    assert item["mobile"] == "919876510008"


async def test_skip_secondary_with_a_known_primary_updates_it_and_ignores_the_other_secondary(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.configs = {"CONFIG_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH": True}
    api = await configured(app_client, database_url, org_spec)
    a, _ = await _two_customers(api)
    item = await api.add_one({"mobile": "919876510005", "email": "b@example.com"})
    assert item["user_id"] == a["user_id"]
    assert item["email"] == "a@example.com"


async def test_new_primary_fills_a_customer_found_by_secondary_that_had_none(api: Api) -> None:
    first = await api.add_one({"external_id": "EXT-ONLY-1"})
    item = await api.add_one({"mobile": "919876510009", "external_id": "EXT-ONLY-1"})
    assert item["user_id"] == first["user_id"]
    assert item["mobile"] == "919876510009"


async def test_email_primary_org_matches_on_email(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.configs = {
        "CONF_REGISTRATION_PRIMARY_KEY": "email",
        "CONF_PRIMARY_IDENTIFIER_STRICT_CHECK": True,
    }
    api = await configured(app_client, database_url, org_spec)
    await api.add_one({"email": "p@example.com", "mobile": "919876510010"})
    assert item_code(await api.add_one({"email": "q@example.com", "mobile": "919876510010"})) == "1047"


async def test_default_country_code_makes_national_numbers_the_same_customer(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.configs = {"CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED": True}
    api = await configured(app_client, database_url, org_spec)
    first = await api.add_one({"mobile": "9876532218"})
    assert first["mobile"] == "919876532218"
    for spelling in ("919876532218", "+91 98765 32218", "98765-32218"):
        assert (await api.add_one({"mobile": spelling}))["user_id"] == first["user_id"]
    singapore = await api.add_one({"mobile": "91234567"})
    assert singapore["mobile"] == "6591234567"


async def test_without_default_country_code_a_national_number_is_invalid(api: Api) -> None:
    assert item_code(await api.add_one({"mobile": "9876532218"})) == "1006"


async def test_loyalty_customer_cannot_become_non_loyalty_1046(api: Api) -> None:
    await api.add_one({"mobile": "919876510011"})
    assert item_code(await api.add_one({"mobile": "919876510011", "type": "NON_LOYALTY"})) == "1046"


async def test_non_loyalty_customer_becoming_loyalty_is_enrolled(api: Api) -> None:
    first = await api.add_one({"mobile": "919876510012", "type": "NON_LOYALTY"})
    assert first["current_slab"] == ""
    again = await api.add_one({"mobile": "919876510012", "type": "LOYALTY"})
    assert again["type"] == "LOYALTY"
    assert again["current_slab"] == "Base"
    assert again["points_summaries"]["points_summary"][0]["programId"] == "469"


async def test_custom_and_extended_fields_merge_on_update(api: Api) -> None:
    await api.add_one(
        {"mobile": "919876510013", "custom_fields": {"field": [{"name": "City_name", "value": "Pune"}]}}
    )
    again = await api.add_one(
        {
            "mobile": "919876510013",
            "custom_fields": {"field": [{"name": "pincode", "value": "411001"}]},
            "extended_fields": {"field": [{"name": "city", "value": "Pune"}]},
        }
    )
    assert again["custom_fields"]["field"] == [
        {"name": "City_name", "value": "Pune"},
        {"name": "pincode", "value": "411001"},
    ]
    assert again["extended_fields"]["field"] == [{"name": "city", "value": "Pune"}]


async def test_partial_batch_answers_201_and_stores_only_the_good_items(api: Api) -> None:
    response = await api.add({"mobile": "919876510014"}, {"mobile": "bad"}, {"email": "ok@example.com"})
    assert response.status_code == 201
    body = response.json()["response"]
    assert body["status"] == {
        "success": "true",
        "code": 201,
        "message": "Some requests have failed due to errors",
        "total": "3",
        "success_count": "2",
    }
    codes = [item_code(i) for i in body["customers"]["customer"]]
    assert codes == ["1000", "1006", "1000"]
    assert body["customers"]["customer"][1]["mobile"] == "bad"
    missing = (await api.get(mobile="bad")).json()["response"]["status"]["success_count"]
    assert missing == "0"


async def test_all_failed_batch_answers_500_with_each_item_status(api: Api) -> None:
    response = await api.add({"mobile": "bad"}, {"email": "bad"})
    assert response.status_code == 500
    status = response.json()["response"]["status"]
    assert (status["code"], status["message"], status["success_count"]) == (
        500,
        "All requests have failed due to errors",
        "0",
    )


async def test_a_failing_item_leaves_nothing_behind_when_it_fails_after_reading(api: Api) -> None:
    # 1046 is decided after the customer was read: the savepoint must undo everything.
    await api.add_one({"mobile": "919876510015", "firstname": "Before"})
    item = await api.add_one({"mobile": "919876510015", "firstname": "After", "type": "NON_LOYALTY"})
    assert item_code(item) == "1046"
    got = (await api.get(mobile="919876510015")).json()["response"]["customers"]["customer"][0]
    assert got["firstname"] == "Before"


async def test_two_items_of_one_batch_with_the_same_mobile_make_one_customer(api: Api) -> None:
    response = await api.add(
        {"mobile": "919876510016", "firstname": "A"}, {"mobile": "919876510016", "lastname": "B"}
    )
    items = response.json()["response"]["customers"]["customer"]
    assert items[0]["user_id"] == items[1]["user_id"]
    assert items[1]["item_status"]["message"] == "Customer successfully updated"
    assert (items[1]["firstname"], items[1]["lastname"]) == ("A", "B")
