"""Subscription states and the consent log, seen through one org.

The state table is kept current (insert or update per key); the consent log is only
ever inserted into: this module has no UPDATE or DELETE on it, and the database's
triggers refuse both (migration 0009). So a merge moves no log row: the survivor's log
is read together with the logs of the customers merged into it, and an un-merge, which
clears the victim's `merged_into`, gives the victim's rows back by the same token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain.subscriptions import Change, SubscriptionKey
from memberbase.storage.bulk import take_sequence
from memberbase.storage.counters import take_ids
from memberbase.storage.tables import consent_log, subscriptions


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class Who:
    """Who made a change and through what: evidence kept with every consent log row."""

    till_code: str
    request_id: str
    via: str  # "v1.1", "v2", "v1.1 customer/add", "v2 customers"
    api_client: str | None = None
    user_context: dict[str, str] | None = None


@dataclass(frozen=True)
class ConsentEntry:
    customer_id: int
    key: SubscriptionKey
    subscribed: bool
    previous: bool | None
    occurred_at: dt.datetime
    who: Who
    reason: str | None
    consent_text: str | None
    consent_version: str | None
    details: dict[str, Any]


def _key(row: Any) -> SubscriptionKey:
    return SubscriptionKey(row.channel, row.priority, row.source, row.account_id)


class SubscriptionRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def states(self, customer_ids: Iterable[int]) -> dict[int, dict[SubscriptionKey, bool]]:
        """Every state each customer has set, by key (a key never set is absent)."""
        ids = list(dict.fromkeys(customer_ids))
        found: dict[int, dict[SubscriptionKey, bool]] = {i: {} for i in ids}
        if not ids:
            return found
        query = sa.select(subscriptions).where(
            subscriptions.c.org_id == self._org_id, subscriptions.c.customer_id.in_(ids)
        )
        for row in (await self._conn.execute(query)).all():
            found[row.customer_id][_key(row)] = row.subscribed
        return found

    async def record(
        self,
        customer_id: int,
        changes: list[Change],
        held: dict[SubscriptionKey, bool],
        at: dt.datetime,
        who: Who,
    ) -> None:
        """Write the states the changes leave (`held`: the states before them) and log every change."""
        final = {c.key: c.subscribed for c in changes}
        base = {"org_id": self._org_id, "customer_id": customer_id}
        for key, subscribed in sorted(final.items()):
            values = {"subscribed": subscribed, "updated_at": at}
            if key in held:
                await self._conn.execute(
                    subscriptions.update()
                    .where(
                        subscriptions.c.org_id == self._org_id,
                        subscriptions.c.customer_id == customer_id,
                        subscriptions.c.channel == key.channel,
                        subscriptions.c.priority == key.priority,
                        subscriptions.c.source == key.source,
                        subscriptions.c.account_id == key.account_id,
                    )
                    .values(values)
                )
            else:
                await self._conn.execute(
                    subscriptions.insert().values({**base, **_key_values(key), **values})
                )
        ids = await self._ids(len(changes))
        rows = [
            {
                **base,
                "id": ids[position],
                **_key_values(c.key),
                "subscribed": c.subscribed,
                "previous": c.previous,
                "occurred_at": at,
                "via": who.via,
                "till_code": who.till_code,
                "api_client": who.api_client,
                "user_context": who.user_context,
                "request_id": who.request_id,
                "reason": c.instruction.evidence.reason,
                "consent_text": c.instruction.evidence.consent_text,
                "consent_version": c.instruction.evidence.consent_version,
                "details": c.instruction.evidence.details,
            }
            for position, c in enumerate(changes)
        ]
        if rows:
            await self._conn.execute(consent_log.insert(), rows)

    async def _ids(self, count: int) -> list[int]:
        """Log ids, drawn under the customer's lock: ascending in commit order per customer."""
        if self._conn.dialect.name == "postgresql":
            return await take_sequence(self._conn, "consent_log_id_seq", count)
        first = await take_ids(self._conn, "consent_log", count)
        return list(range(first, first + count))

    async def log_for(self, customer_ids: Iterable[int]) -> list[ConsentEntry]:
        """The consent log of these customers (one customer and those merged into it), oldest first."""
        query = (
            sa.select(consent_log)
            .where(consent_log.c.org_id == self._org_id, consent_log.c.customer_id.in_(list(customer_ids)))
            .order_by(consent_log.c.id)  # drawn under the customer lock: commit order
        )
        return [
            ConsentEntry(
                customer_id=r.customer_id,
                key=_key(r),
                subscribed=r.subscribed,
                previous=r.previous,
                occurred_at=_utc(r.occurred_at),
                who=Who(r.till_code, r.request_id, r.via, r.api_client, r.user_context),
                reason=r.reason,
                consent_text=r.consent_text,
                consent_version=r.consent_version,
                details=dict(r.details or {}),
            )
            for r in (await self._conn.execute(query)).all()
        ]


def _key_values(key: SubscriptionKey) -> dict[str, str]:
    return {
        "channel": key.channel,
        "priority": key.priority,
        "source": key.source,
        "account_id": key.account_id,
    }
