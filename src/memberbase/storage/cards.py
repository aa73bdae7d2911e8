"""Cards issued to customers, and the number sequences of generating series."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.tables import card_sequences, cards


@dataclass(frozen=True)
class Card:
    number: str
    customer_id: int
    series_id: int
    status_label: str
    extended_fields: dict[str, Any]
    custom_fields: dict[str, Any]
    issued_at: dt.datetime


class CardRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def next_sequence(self, series_id: int) -> int:
        """The series' next sequence number; the row update serialises concurrent issuers."""
        bump = (
            card_sequences.update()
            .where(card_sequences.c.org_id == self._org_id, card_sequences.c.series_id == series_id)
            .values(next_value=card_sequences.c.next_value + 1)
            .returning(card_sequences.c.next_value)
        )
        value = (await self._conn.execute(bump)).scalar_one_or_none()
        if value is not None:
            return int(value) - 1
        # First card of the series. A concurrent first issuer makes this insert fail with
        # IntegrityError; the caller's savepoint retries and then takes the update above.
        await self._conn.execute(
            card_sequences.insert().values(org_id=self._org_id, series_id=series_id, next_value=2)
        )
        return 1

    async def add(self, card: Card) -> None:
        await self._conn.execute(
            cards.insert().values(
                org_id=self._org_id,
                card_number=card.number,
                customer_id=card.customer_id,
                series_id=card.series_id,
                status_label=card.status_label,
                extended_fields=card.extended_fields,
                custom_fields=card.custom_fields,
                issued_at=card.issued_at,
            )
        )

    async def for_customers(self, customer_ids: list[int]) -> dict[int, list[Card]]:
        found: dict[int, list[Card]] = {cid: [] for cid in customer_ids}
        if not customer_ids:
            return found
        query = (
            sa.select(cards)
            .where(cards.c.org_id == self._org_id, cards.c.customer_id.in_(customer_ids))
            .order_by(cards.c.issued_at, cards.c.card_number)
        )
        for r in (await self._conn.execute(query)).all():
            issued = r.issued_at if r.issued_at.tzinfo else r.issued_at.replace(tzinfo=dt.UTC)
            found[r.customer_id].append(
                Card(
                    r.card_number,
                    r.customer_id,
                    r.series_id,
                    r.status_label,
                    r.extended_fields,
                    r.custom_fields,
                    issued,
                )
            )
        return found

    async def remove(self, customer_id: int, number: str) -> bool:
        """De-link the customer's card; False when the customer holds no such card."""
        result = await self._conn.execute(
            cards.delete().where(
                cards.c.org_id == self._org_id,
                cards.c.customer_id == customer_id,
                cards.c.card_number == number,
            )
        )
        return bool(result.rowcount)
