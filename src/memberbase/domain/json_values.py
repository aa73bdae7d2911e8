"""Turning domain values into what JSON columns and messages hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson

_PLAIN = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    """`value` with enums, decimals, datetimes and tuples turned into JSON values.

    orjson does it in C (a registration's event data: 13 µs in Python, 4 here), with the
    same spelling: enums by value, also as keys; datetimes and dates as `isoformat()`;
    tuples as lists. What it cannot encode (an integer past 64 bits) goes the slow way.
    """
    try:
        return orjson.loads(orjson.dumps(value, default=_unusual, option=orjson.OPT_NON_STR_KEYS))
    except orjson.JSONEncodeError:
        return _jsonable(value)


def _unusual(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset):
        return sorted((_jsonable(v) for v in value), key=repr)
    raise TypeError


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # exact types: a str-enum is not plain
        return value
    if isinstance(value, dict):
        return {(k.value if isinstance(k, Enum) else str(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
