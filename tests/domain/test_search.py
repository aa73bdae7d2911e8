"""The search's rules: what q becomes, page sizes, the mobile prefixes a query stands for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memberbase.domain.org_config import OrgConfig
from memberbase.domain.search import (
    MAX_LIMIT,
    MAX_QUERY,
    MIN_QUERY,
    field_name,
    mobile_prefixes,
    page_size,
    query_text,
)

ORG = OrgConfig.model_validate({"id": 1, "name": "o", "base_country": "IN", "supported_countries": ["SG"]})


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("  John   Smith ", "John Smith"),
        ("ab", "ab"),
        ("a\u00a0 b", "a b"),
        ("x" * MAX_QUERY, "x" * MAX_QUERY),
    ],
)
def test_q_is_trimmed_with_runs_of_white_space_as_one_space(raw: str, text: str) -> None:
    assert query_text(raw) == text


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("a", "at least"),
        ("  a  ", "at least"),
        ("x" * (MAX_QUERY + 1), "at most"),
        ("a\tb", "control"),
        ("ab\x7f", "control"),
    ],
)
def test_a_bad_q_says_why(raw: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        query_text(raw)


@given(st.text(max_size=MAX_QUERY + 5))
def test_any_q_is_refused_or_short_enough_and_trimmed(raw: str) -> None:
    try:
        text = query_text(raw)
    except ValueError:
        return
    assert MIN_QUERY <= len(text) <= MAX_QUERY
    assert text == text.strip()
    assert "  " not in text


@pytest.mark.parametrize(
    ("limit", "served"), [(-1, MAX_LIMIT), (1, 1), (MAX_LIMIT, MAX_LIMIT), (10**9, MAX_LIMIT)]
)
def test_page_sizes(limit: int, served: int) -> None:
    assert page_size(limit) == served


@pytest.mark.parametrize("limit", [0, -2])
def test_page_sizes_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        page_size(limit)


@pytest.mark.parametrize(
    ("q", "prefixes"),
    [
        ("98450", ("9198450", "6598450")),
        ("098450", ("9198450", "6598450")),
        ("+91 98450", ("9198450",)),
        ("91-98450", ("9198450", "919198450", "659198450")),
        ("john", ()),
        ("98a50", ()),
        ("+", ()),
    ],
)
def test_phone_like_queries_also_stand_for_stored_mobiles(q: str, prefixes: tuple[str, ...]) -> None:
    assert mobile_prefixes(q, ORG) == prefixes


def test_matched_fields_have_their_v2_names() -> None:
    assert [field_name(f) for f in ("mobile", "external_id", "cardnumber", "wechat", "name", "lastName")] == [
        "mobile",
        "externalId",
        "cardNumber",
        "wechat",
        "name",
        "lastName",
    ]
