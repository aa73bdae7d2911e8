"""Writes that are safe to retry: the first answer is kept in the write's own transaction.

The HTTP edge hands the use-case an `IdempotentWrite` (the key, a fingerprint of the
request, and how to render the result); the use-case seals it inside its unit of work,
just before commit. A write and its stored answer therefore commit together or not at
all: a retry either finds the answer or finds nothing was written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage import idempotency
from memberbase.storage.idempotency import StoredAnswer


class KeyTaken(Exception):
    """A twin request with the same key committed first; this one's writes roll back."""


@dataclass
class IdempotentWrite:
    org_id: int
    key: str
    fingerprint: str
    expires_at: dt.datetime
    render: Callable[[Any], tuple[int, str, str]]  # result -> (status, media type, body)
    answer: StoredAnswer | None = None

    async def seal(self, conn: AsyncConnection, result: Any, now: dt.datetime) -> None:
        status, media_type, body = self.render(result)
        answer = StoredAnswer(self.fingerprint, status, media_type, body)
        if not await idempotency.add(conn, self.org_id, self.key, answer, now, self.expires_at):
            raise KeyTaken(self.key)
        self.answer = answer
