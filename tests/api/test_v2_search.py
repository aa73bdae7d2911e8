"""GET /v2/customers/search: prefixes of identifiers and names, one org, paged, bad input 400."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from memberbase.domain import search as search_rules
from memberbase.http.v2.search import SearchResponse
from tests.support import V2_SEED_ORG, Api, OrgSpec, basic, load_org

pytestmark = pytest.mark.anyio


@pytest.fixture
async def v2(app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec) -> Api:
    org_spec.overrides = dict(V2_SEED_ORG)
    await load_org(database_url, org_spec)
    return Api(app_client[1], org_spec)


async def register(api: Api, first: str, last: str, *identifiers: tuple[str, str], **extra: Any) -> int:
    profile = {
        "firstName": first,
        "lastName": last,
        "identifiers": [{"type": t, "value": v} for t, v in identifiers],
        "source": "INSTORE",
    }
    card = extra.pop("card", None)
    if card is not None:
        profile["identifiers"].append(
            {"type": "cardnumber", "value": card, "seriesId": 73, "statusLabel": "ACTIVE"}
        )
    response = await api.v2_add({"profiles": [profile], **extra})
    assert response.status_code == 200, response.text
    created: int = response.json()["createdId"]
    return created


async def search(api: Api, q: str, **params: str) -> dict[str, Any]:
    response = await api.v2_get("/v2/customers/search", q=q, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    SearchResponse.model_validate(body)  # the shape /openapi.json declares
    return body


def found(body: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(h["userId"], h["matchedField"], h["matchedValue"]) for h in body["data"]]


async def test_each_identifier_and_name_is_found_by_its_prefix(v2: Api) -> None:
    ann = await register(
        v2,
        "Annabel",
        "Quist",
        ("mobile", "919845012345"),
        ("email", "Annabel.Q@Example.com"),
        ("externalId", "EXT-77/a"),
        ("wechat", "wx_annabel"),
        card="55001234",
    )
    asked = {
        "9198450": ("mobile", "919845012345"),
        "annabel.q@": ("email", "annabel.q@example.com"),
        "ANNABEL.Q": ("email", "annabel.q@example.com"),
        "ext-77/": ("externalId", "EXT-77/a"),
        "wx_ann": ("wechat", "wx_annabel"),
        "550012": ("cardNumber", "55001234"),
        "annab": ("name", "Annabel Quist"),  # "annabel quist" sorts before "annabel.q@..."
        "annabel  qu": ("name", "Annabel Quist"),
        "QUI": ("lastName", "Quist"),
    }
    for q, (field, value) in asked.items():
        assert found(await search(v2, q)) == [(ann, field, value)], q


async def test_a_hit_carries_the_customer_with_status_and_tier(v2: Api) -> None:
    uid = await register(v2, "Tiera", "Slab", ("mobile", "919845099001"), statusLabel="active-1")
    (hit,) = (await search(v2, "tiera"))["data"]
    assert hit == {
        "userId": uid,
        "firstName": "Tiera",
        "lastName": "Slab",
        "mobile": "919845099001",
        "email": None,
        "externalId": None,
        "matchedField": "name",
        "matchedValue": "Tiera Slab",
        "loyaltyType": "loyalty",
        "statusLabel": "active-1",
        "customerStatus": "Active",
        "currentSlab": "Base",
    }


async def test_a_mobile_without_its_country_code_or_with_formatting_is_found(v2: Api) -> None:
    uid = await register(v2, "Mo", "Bile", ("mobile", "919845077001"))
    for q in ("98450770", "098450770", "+91 98450-770", "91 9845 077"):
        assert found(await search(v2, q)) == [(uid, "mobile", "919845077001")], q
    assert found(await search(v2, "+98450770")) == []  # '+': the country code is written


@pytest.mark.parametrize(
    ("q", "expected"), [("pct%", ["pct%1"]), ("und_", ["und_1"]), ("back\\", ["back\\1"])]
)
async def test_wildcard_characters_in_q_are_plain_characters(v2: Api, q: str, expected: list[str]) -> None:
    for value in ("pct%1", "pctX1", "und_1", "undX1", "back\\1", "backX1"):
        await register(v2, "Wild", "Card", ("externalId", value))
    assert [h["matchedValue"] for h in (await search(v2, q))["data"]] == expected


async def test_a_customer_found_several_ways_is_listed_once_by_the_first_match(v2: Api) -> None:
    uid = await register(v2, "Dupont", "Dupont", ("email", "dupont@example.com"))
    body = await search(v2, "dupont")
    assert found(body) == [(uid, "lastName", "Dupont")]  # "dupont" < "dupont dupont" < "dupont@..."
    assert body["pagination"] == {"limit": 10, "offset": 0, "total": 1, "totalExact": True}


async def test_pages_follow_the_matched_text_then_the_id(v2: Api) -> None:
    ids = [
        await register(v2, "Pager", f"P{n}", ("externalId", f"pg-{i}")) for i, n in enumerate((3, 1, 2, 1))
    ]
    ids[1], ids[3] = sorted((ids[1], ids[3]))  # the two "Pager P1": by id
    everyone = found(await search(v2, "pager"))
    assert [i for i, _, _ in everyone] == [ids[1], ids[3], ids[2], ids[0]]
    second = await search(v2, "pager", offset="1", limit="2")
    assert [i for i, _, _ in found(second)] == [ids[3], ids[2]]
    assert second["pagination"] == {"limit": 2, "offset": 1, "total": 4, "totalExact": True}
    beyond = await search(v2, "pager", offset="9")
    assert beyond["data"] == []
    assert beyond["pagination"]["total"] == 4


@pytest.mark.parametrize(("limit", "served"), [("-1", 100), ("101", 100), ("100", 100), ("1", 1)])
async def test_limit_all_and_beyond_the_cap_serve_the_cap(v2: Api, limit: str, served: int) -> None:
    assert (await search(v2, "nobody", limit=limit))["pagination"]["limit"] == served


async def test_the_total_is_a_lower_bound_past_the_counted_window(
    v2: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_rules, "COUNT_BEYOND", 2)
    for n in range(6):
        await register(v2, "Counted", f"C{n}", ("externalId", f"cnt-{n}"))
    capped = await search(v2, "cnt-", limit="2")
    # The window is the page and COUNT_BEYOND more (4); one more match is read to know.
    assert capped["pagination"] == {"limit": 2, "offset": 0, "total": 5, "totalExact": False}
    assert [h["matchedValue"] for h in capped["data"]] == ["cnt-0", "cnt-1"]
    exact = await search(v2, "cnt-", limit="4")
    assert exact["pagination"]["total"] == 6
    assert exact["pagination"]["totalExact"] is True


async def test_a_page_is_whole_when_customers_match_twice_in_one_window(
    v2: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mobile and an external id that is the same number: each customer takes two rows of
    the identifiers' window, which then holds half the customers the page needs."""
    monkeypatch.setattr(search_rules, "COUNT_BEYOND", 0)
    ids = [
        await register(v2, "Twice", f"T{n}", ("mobile", f"91984503300{n}"), ("externalId", f"91984503300{n}"))
        for n in range(8)
    ]
    first = await search(v2, "9198450330", limit="3")
    assert [h["userId"] for h in first["data"]] == ids[:3]
    deep = await search(v2, "9198450330", offset="3", limit="3")
    assert [h["userId"] for h in deep["data"]] == ids[3:6]
    assert deep["pagination"]["total"] >= 6


async def test_another_orgs_customers_are_never_found(v2: Api, database_url: str, org_spec: OrgSpec) -> None:
    await register(v2, "Secret", "Mine", ("mobile", "919845066001"))
    other = OrgSpec(org_id=org_spec.org_id + 900_000, till=f"{org_spec.till}.other")
    await load_org(database_url, other)
    response = await v2.client.get("/v2/customers/search?q=secret", headers=basic(other.till))
    assert response.json()["data"] == []
    response = await v2.client.get("/v2/customers/search?q=9198450660", headers=basic(other.till))
    assert response.json()["pagination"]["total"] == 0


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("", "q: Field required"),
        ("q=", "at least 2"),
        ("q=a", "at least 2"),
        ("q=%20a%20%20", "at least 2"),
        ("q=" + "x" * 301, "at most 300"),
        ("q=ab%00c", "control characters"),
        ("q=ab%09c", "control characters"),
        ("q=ab&offset=-1", "offset"),
        ("q=ab&offset=10001", "offset"),
        ("q=ab&offset=x", "offset"),
        ("q=ab&limit=0", "limit is 1 to 100"),
        ("q=ab&limit=-2", "limit"),
        ("q=ab&limit=ten", "limit"),
    ],
)
async def test_bad_input_is_a_400_in_the_v2_error_body(v2: Api, query: str, says: str) -> None:
    response = await v2.client.get(f"/v2/customers/search?{query}", headers=v2.auth)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["warnings"] == []
    (error,) = body["errors"]
    assert error["status"] is False
    assert error["code"] == 400
    assert says in error["message"], error["message"]


@pytest.mark.parametrize(
    "q",
    [
        "%F4%8F%BF%BF%F4%8F%BF%BF",
        "%F0%9F%98%80x",
        "%FF%FE",
        "%ED%A0%80ab",
        "a'b",
        "x%25%5F%5C",
        "%E1%BA%9E%C3%9F",
    ],
)
async def test_odd_but_printable_text_finds_nobody_and_never_fails(v2: Api, q: str) -> None:
    response = await v2.client.get(f"/v2/customers/search?q={q}", headers=v2.auth)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []


async def test_the_orgs_rate_limit_names_the_search_by_its_route(
    app_client: tuple[Any, httpx.AsyncClient], database_url: str, org_spec: OrgSpec
) -> None:
    org_spec.overrides = {"rate_limits": {"per_minute": {"GET /v2/customers/search": 2}}}
    await load_org(database_url, org_spec)
    api = Api(app_client[1], org_spec)
    statuses = [(await api.v2_get("/v2/customers/search", q="ab")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    last = await api.v2_get("/v2/customers/search", q="ab")
    assert "for GET /v2/customers/search" in last.json()["errors"][0]["message"]


async def test_without_credentials_the_search_answers_401(v2: Api) -> None:
    response = await v2.client.get("/v2/customers/search?q=ab")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 401


async def test_the_openapi_document_declares_the_query_and_the_answer(v2: Api) -> None:
    operation = (await v2.client.get("/openapi.json")).json()["paths"]["/v2/customers/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "offset", "limit"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SearchResponse"
    }


async def test_a_merge_victim_is_found_as_its_survivor_only(api: Api) -> None:
    from tests.api.test_merge_records import register  # one way of making customers

    survivor = await register(
        api,
        {
            "profiles": [
                {
                    "source": "INSTORE",
                    "firstName": "Zeno",
                    "identifiers": [{"type": "mobile", "value": "919876593001"}],
                }
            ]
        },
    )
    victim = await register(
        api,
        {
            "profiles": [
                {
                    "source": "WECHAT",
                    "accountId": "wx-1",
                    "firstName": "Zeno",
                    "identifiers": [{"type": "wechat", "value": "zeno-wx"}],
                }
            ]
        },
    )
    merged = await api.client.post(
        f"/v2/customers/{victim}/changeIdentifier",
        params={"source": "WECHAT", "accountId": "wx-1"},
        json={"add": [{"type": "mobile", "value": "919876593001"}]},
        headers=api.auth,
    )
    assert merged.status_code == 200, merged.text
    found = (await api.v2_get("/v2/customers/search", q="zeno")).json()["data"]
    assert [h["userId"] for h in found] == [survivor]
    by_wechat = (await api.v2_get("/v2/customers/search", q="zeno-w")).json()["data"]
    assert [h["userId"] for h in by_wechat] == [survivor]
