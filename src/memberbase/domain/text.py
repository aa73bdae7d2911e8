"""Text a till may send: no NUL or other control characters (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

import re
from typing import Any

# C0 controls and DEL; one regex scan is a seventh of a per-character check in Python,
# and every field of every call is checked.
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def control_free_json(value: Any) -> bool:
    """True when no string anywhere in a JSON value (keys included) has a control character."""
    if isinstance(value, str):
        return not has_control(value)
    if isinstance(value, dict):
        return all(not has_control(str(k)) and control_free_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(control_free_json(v) for v in value)
    return True
