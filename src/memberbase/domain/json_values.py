"""Turning domain values into what JSON columns and messages hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

_PLAIN = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    """`value` with enums, decimals, datetimes and tuples turned into JSON values."""
    if type(value) in _PLAIN:  # exact types: a str-enum is not plain (bulk imports call this a lot)
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
