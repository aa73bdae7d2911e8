"""Building audit entries: who (till), when, what changed, with the caller's user context."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memberbase.domain.json_values import jsonable
from memberbase.storage.audit import AuditEntry

if TYPE_CHECKING:
    from memberbase.usecases.idempotency import IdempotentWrite

__all__ = ["Downstream", "RequestContext", "audit_entry", "jsonable"]


@dataclass(frozen=True)
class Downstream:
    """What the caller asked of the loyalty side, by header and query flag."""

    skip: bool = False  # SKIP-DOWNSTREAM: true, store like a data import: no rewards, no events
    report: bool = True  # WAIT_FOR_DOWNSTREAM: false, rewards applied but not reported
    raw: bool = False  # rawSideEffects=true, full detail of each award
    every_program: bool = False  # mlp_single_enroll=true, join every programme of the org


@dataclass(frozen=True)
class RequestContext:
    till_code: str
    request_id: str
    now: dt.datetime  # aware, UTC
    user_context: dict[str, str] | None = None
    downstream: Downstream = Downstream()
    idempotency: IdempotentWrite | None = None  # an Idempotency-Key's write: sealed before commit


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
