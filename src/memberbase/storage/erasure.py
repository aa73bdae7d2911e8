"""Blanking a customer's personal data everywhere it is stored; counts and ledger totals stay.

Personal values: names, identifiers (claims, profile lists, identifier columns), comm
channels, custom and extended fields, card numbers, free text people typed about the
customer (status and consent reasons, request comments), the before/after values of audit
rows, stored event payloads, merge records' lists, and kept answers of retried writes.
Kept: the rows themselves where they count something (enrolments, ledger, coupons,
currencies, referrals, status and consent entries with their channel, time and state).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage import tables as t

ERASED: dict[str, Any] = {"erased": True}


class ErasureRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    def _of(self, table: sa.Table, column: str, ids: list[int]) -> Any:
        return sa.and_(table.c.org_id == self._org_id, table.c[column].in_(ids))

    async def values_of(self, ids: list[int]) -> list[str]:
        """The personal values stored for these customers that kept answers may repeat."""
        found: set[str] = set()
        rows = await self._conn.execute(
            sa.select(t.identifiers.c.value).where(self._of(t.identifiers, "customer_id", ids))
        )
        found |= {r[0] for r in rows}
        rows = await self._conn.execute(
            sa.select(t.cards.c.card_number).where(self._of(t.cards, "customer_id", ids))
        )
        found |= {r[0] for r in rows}
        columns = (
            t.customers.c.firstname,
            t.customers.c.lastname,
            t.customers.c.mobile,
            t.customers.c.email,
            t.customers.c.external_id,
        )
        for row in await self._conn.execute(sa.select(*columns).where(self._of(t.customers, "id", ids))):
            found |= {v for v in row if v}
        return sorted(v for v in found if len(v) >= 3)

    async def grant(self, ids: list[int]) -> None:
        await self._conn.execute(
            t.erasure_grants.insert(), [{"org_id": self._org_id, "customer_id": i} for i in ids]
        )

    async def revoke(self, ids: list[int]) -> None:
        await self._conn.execute(
            t.erasure_grants.delete().where(self._of(t.erasure_grants, "customer_id", ids))
        )

    async def blank(self, ids: list[int], status_label: str | None, at: dt.datetime) -> None:
        of = self._of
        run = self._conn.execute
        await run(t.identifiers.delete().where(of(t.identifiers, "customer_id", ids)))
        await run(t.cards.delete().where(of(t.cards, "customer_id", ids)))
        await run(t.subscriptions.delete().where(of(t.subscriptions, "customer_id", ids)))
        await run(
            t.customers.update()
            .where(of(t.customers, "id", ids))
            .values(
                firstname="", lastname="", mobile=None, email=None, external_id=None, associated_with=None,
                comm_channels=[], custom_fields={}, extended_fields={}, referral_code=None,
                status_label=status_label, erased_at=at, updated_on=at, version=t.customers.c.version + 1,
            )
        )  # fmt: skip
        await run(
            t.profiles.update()
            .where(of(t.profiles, "customer_id", ids))
            .values(firstname="", lastname="", identifiers=[], comm_channels=[], fields={})
        )
        await run(t.status_log.update().where(of(t.status_log, "customer_id", ids)).values(reason="erased"))
        await run(t.audit_log.update().where(of(t.audit_log, "customer_id", ids)).values(changes=ERASED))
        await run(
            t.consent_log.update()
            .where(of(t.consent_log, "customer_id", ids))
            .values(reason=None, details=ERASED)
        )
        await run(t.outbox.update().where(of(t.outbox, "customer_id", ids)).values(payload=ERASED))
        await run(t.requests.update().where(of(t.requests, "user_id", ids)).values(comments=None))
        merges = sa.or_(t.merges.c.survivor_id.in_(ids), t.merges.c.victim_id.in_(ids))
        await run(t.merges.update().where(t.merges.c.org_id == self._org_id, merges).values(moved=ERASED))

    async def forget_answers(self, values: list[str]) -> None:
        """Kept answers of retried writes that repeat any of the values (kept 24 h at most)."""
        for value in values:
            pattern = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            await self._conn.execute(
                t.idempotency_keys.delete().where(
                    t.idempotency_keys.c.org_id == self._org_id,
                    t.idempotency_keys.c.body.like(f"%{pattern}%", escape="\\"),
                )
            )

    async def victims_of(self, customer_id: int) -> list[int]:
        query = sa.select(t.customers.c.id).where(
            t.customers.c.org_id == self._org_id, t.customers.c.merged_into == customer_id
        )
        return [int(r[0]) for r in await self._conn.execute(query)]
