"""Limits on the free-form JSON a client may store (commChannels, their meta, extended and
custom fields): what every store keeps and every read writes back unchanged.

PostgreSQL's JSONB turns `1e20` into an integer no 64-bit encoder writes, a 900 KB channel
value or 30,000 entries make every read of the customer slow, and NaN is no JSON at all.
"""

from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 5
MAX_ENTRIES = 200  # list items and object keys, counted all the way down
MAX_STRING = 1_000  # characters in one string value
MAX_KEY = 100  # characters in one object key
# Whole numbers and decimals alike must lie within ±2^53: exact in a float, in JSONB, in
# SQLite and in a JavaScript client; 1e20 or 1e308 is a typo or a probe, never a channel.
MAX_NUMBER = 2**53

LIMITS_TEXT = (
    f"at most {MAX_DEPTH} levels deep, {MAX_ENTRIES} entries, strings of {MAX_STRING} characters,"
    f" keys of {MAX_KEY}, finite numbers within ±{MAX_NUMBER}"
)


def free_json_problem(value: Any, name: str) -> str | None:
    """Why `value` may not be stored as `name`, or None when it fits the limits."""
    entries = [0]
    return _problem(value, name, 1, entries)


def _problem(value: Any, where: str, depth: int, entries: list[int]) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return f"{where} must be a finite number"
        if abs(value) > MAX_NUMBER:
            return f"{where} must be a number within ±{MAX_NUMBER}"
        return None
    if isinstance(value, str):
        return f"{where} is longer than {MAX_STRING} characters" if len(value) > MAX_STRING else None
    if not isinstance(value, dict | list):
        return f"{where} must be a JSON value"
    if depth > MAX_DEPTH:
        return f"{where} is nested deeper than {MAX_DEPTH} levels"
    entries[0] += len(value)
    if entries[0] > MAX_ENTRIES:
        return f"{where.split('[')[0].split('.')[0]} has more than {MAX_ENTRIES} entries"
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(key, str) and len(key) > MAX_KEY:
            return f"{where} has a key longer than {MAX_KEY} characters"
        inner = f"{where}.{key}" if isinstance(value, dict) else f"{where}[{key}]"
        problem = _problem(item, inner, depth + 1, entries)
        if problem:
            return problem
    return None


def mended(value: Any) -> Any:
    """`value` with what the limits refuse made storable: a number out of range as its
    text (nothing is lost: `1e+20`), a non-finite one as null, a long string cut."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int | float):
        return repr(value) if abs(value) > MAX_NUMBER else value
    if isinstance(value, str):
        return value[:MAX_STRING]
    if isinstance(value, dict):
        return {k: mended(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mended(v) for v in value]
    return value
