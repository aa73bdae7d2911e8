"""Building audit entries: who (till), when, what changed, with the caller's user context."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

from memberbase.storage.audit import AuditEntry


@dataclass(frozen=True)
class RequestContext:
    till_code: str
    request_id: str
    now: dt.datetime  # aware, UTC
    user_context: dict[str, str] | None = None


def audit_entry(
    context: RequestContext, customer_id: int, action: str, changes: dict[str, Any]
) -> AuditEntry:
    return AuditEntry(
        customer_id=customer_id,
        action=action,
        till_code=context.till_code,
        occurred_at=context.now,
        changes=jsonable(changes),
        user_context=context.user_context,
        request_id=context.request_id,
    )


def jsonable(value: Any) -> Any:
    """`value` with enums, datetimes and tuples turned into what JSON columns hold."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
