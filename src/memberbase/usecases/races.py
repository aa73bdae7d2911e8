"""Running one write attempt so that lost races are retried and refusals roll back.

A write attempt runs in a transaction or savepoint. Raising `Refused` inside it
undoes what it wrote and answers with the failure. A lost race (the database's
unique key fired, or a deadlock or serialisation failure) undoes it and tries
again, deciding afresh against what the winner committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import exc as sa_exc

from memberbase.domain.customer import Failure

MAX_ATTEMPTS = 5
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock

T = TypeVar("T")


class Refused(Exception):
    """Raised inside an attempt so that whatever it wrote is rolled back."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure


def lost_race(error: sa_exc.DBAPIError) -> bool:
    if isinstance(error, sa_exc.IntegrityError):
        return True
    return getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


async def settle(attempt: Callable[[], Awaitable[T]]) -> T | Failure | None:
    """The attempt's result, the failure it was refused with, or None when every try lost a race."""
    for _ in range(MAX_ATTEMPTS):
        try:
            return await attempt()
        except Refused as refused:
            return refused.failure
        except sa_exc.DBAPIError as error:
            if not lost_race(error):
                raise
    return None
