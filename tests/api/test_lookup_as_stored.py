"""Mobiles asked for as they are stored are looked up as they are; others after normalising.

Both lookups (v1.1 customer/get, v2 lookup) try digits as written first: a stored mobile
is the canonical form of a valid number, so whoever holds exactly these digits is the one
the normalised value finds too; normalising (a tenth of a lookup) waits for a miss.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from memberbase.domain import identifiers
from tests.support import Api, OrgSpec, load_org

pytestmark = pytest.mark.anyio

STORED = "919876533001"
V2 = "/v2/customers/lookup"


@pytest.fixture
def normalised(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The mobiles the lookups normalised (both use cases normalise through the domain's rules)."""
    seen: list[str] = []
    real = identifiers.normalise_mobile

    def counted(raw: str, org: Any) -> Any:
        seen.append(raw)
        return real(raw, org)

    monkeypatch.setattr(identifiers, "normalise_mobile", counted)
    return seen


async def _v11_found(api: Api, mobile: str) -> bool:
    body = (await api.get(mobile=mobile, format="json")).json()
    return bool(body["response"]["customers"]["customer"][0]["item_status"]["success"] == "true")


async def _v2_found(api: Api, mobile: str) -> bool:
    response = await api.v2_get(V2, source="INSTORE", identifierName="mobile", identifierValue=mobile)
    return response.status_code == 200


async def test_a_mobile_asked_as_stored_is_found_without_normalising(api: Api, normalised: list[str]) -> None:
    await api.add_one({"mobile": STORED})
    normalised.clear()
    assert await _v11_found(api, STORED)
    assert await _v2_found(api, f" {STORED} ")
    assert normalised == []


async def test_other_forms_are_normalised_and_found(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec, normalised: list[str]
) -> None:
    org_spec.configs = {"CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED": True}
    await load_org(database_url, org_spec)
    api = Api(app_client[1], org_spec)
    await api.add_one({"mobile": STORED})
    normalised.clear()
    for written in ("9876533001", "+91 98765 33001", "91-9876533001"):
        assert await _v11_found(api, written), written
        assert await _v2_found(api, written), written
    # Digits as written first, missed, then normalised; formatted ones normalised at once.
    assert normalised.count("9876533001") == 2
    assert not await _v11_found(api, "919876539999")  # valid, nobody's: normalising changes nothing
    assert not await _v2_found(api, "12")  # not a mobile at all


async def test_a_customer_keeps_being_found_after_their_country_leaves_the_org(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    # Registered while the org took Singapore numbers; then Singapore was dropped. The exact
    # stored digits still name them (normalising alone would now call the number invalid).
    await load_org(database_url, org_spec)
    api = Api(app_client[1], org_spec)
    singapore = "6591234567"
    assert (await api.add_one({"mobile": singapore}))["item_status"]["success"] == "true"
    org_spec.supported_countries = []
    await load_org(database_url, org_spec)
    assert await _v11_found(api, singapore)
    assert await _v2_found(api, singapore)
    assert (await api.add_one({"mobile": "6591234568"}))["item_status"]["success"] == "false"
