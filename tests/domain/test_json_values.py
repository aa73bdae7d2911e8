"""Domain values as JSON values: the same answer from orjson as from the plain Python walk."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from memberbase.domain import json_values
from memberbase.domain.customer import CustomerType
from memberbase.domain.json_values import jsonable
from memberbase.domain.org_config import IdentifierType

NOW = dt.datetime(2026, 12, 1, 9, 30, 15, 120000, tzinfo=dt.UTC)
SAMPLES: list[Any] = [
    None,
    "plain",
    7,
    1.5,
    True,
    CustomerType.LOYALTY,
    {IdentifierType.MOBILE: "919800000001", 3: "three", "s": ("a", 1)},
    {"at": NOW, "on": NOW.date(), "whole": NOW.replace(microsecond=0), "naive": dt.datetime(2026, 1, 2)},
    {"ist": NOW.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))},
    {"money": Decimal("12.50"), "set": {"b", "a"}, "frozen": frozenset({2, 1})},
    [{"nested": [{"deeper": CustomerType.LOYALTY}]}],
]


@pytest.mark.parametrize("value", SAMPLES)
def test_orjson_spells_values_as_the_python_walk_does(value: Any) -> None:
    assert jsonable(value) == json_values._jsonable(value)


def test_what_the_json_values_look_like() -> None:
    value = {IdentifierType.MOBILE: "9198", "at": NOW, "money": Decimal("1.5"), "set": {"b", "a"}}
    assert jsonable(value) == {
        "mobile": "9198",
        "at": "2026-12-01T09:30:15.120000+00:00",
        "money": 1.5,
        "set": ["a", "b"],
    }


def test_an_integer_orjson_cannot_hold_still_comes_through() -> None:
    assert jsonable({"big": 2**70, "at": NOW}) == {"big": 2**70, "at": NOW.isoformat()}
