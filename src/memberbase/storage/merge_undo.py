"""Reading what a survivor holds now, and moving back what a merge moved: un-merge's storage."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.tables import (
    cards,
    coupons,
    currency_balances,
    customers,
    enrolments,
    identifiers,
    merges,
    profiles,
    referral_codes,
    referrals,
    subscriptions,
)


class MergeUndoRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def get(self, merge_id: str) -> dict[str, Any] | None:
        row = (
            (
                await self._conn.execute(
                    sa.select(merges).where(merges.c.org_id == self._org_id, merges.c.id == merge_id)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else dict(row)

    async def _all(self, query: sa.Select[Any]) -> list[Any]:
        return [tuple(r) for r in (await self._conn.execute(query)).all()]

    async def state(self, survivor: int) -> dict[str, Any]:
        """What un-merge checks: the survivor's identifiers, cards, coupons, balances."""
        org = self._org_id
        merged_into = (
            await self._conn.execute(
                sa.select(customers.c.merged_into).where(
                    customers.c.org_id == org, customers.c.id == survivor
                )
            )
        ).scalar_one()
        held = await self._all(
            sa.select(identifiers.c.type, identifiers.c.value).where(
                identifiers.c.org_id == org, identifiers.c.customer_id == survivor
            )
        )
        numbers = await self._all(
            sa.select(cards.c.card_number).where(cards.c.org_id == org, cards.c.customer_id == survivor)
        )
        coupon_ids = await self._all(
            sa.select(coupons.c.id).where(coupons.c.org_id == org, coupons.c.customer_id == survivor)
        )
        points = await self._all(
            sa.select(enrolments.c.program_id, enrolments.c.loyalty_points).where(
                enrolments.c.org_id == org, enrolments.c.customer_id == survivor
            )
        )
        balances = await self._all(
            sa.select(currency_balances.c.identifier, currency_balances.c.balance).where(
                currency_balances.c.org_id == org, currency_balances.c.customer_id == survivor
            )
        )
        return {
            "survivor_merged_into": merged_into,
            "identifiers": {(t, v) for t, v in held},
            "cards": {n for (n,) in numbers},
            "coupons": {int(i) for (i,) in coupon_ids},
            "points": {int(p): int(b) for p, b in points},
            "currencies": {i: int(b) for i, b in balances},
        }

    async def give_back(self, table: sa.Table, column: str, survivor: int, victim: int, where: Any) -> None:
        await self._conn.execute(
            table.update()
            .where(table.c.org_id == self._org_id, table.c[column] == survivor, where)
            .values({column: victim})
        )

    async def identifiers_back(self, survivor: int, victim: int, moved: list[list[str]]) -> None:
        for claim_type, value in moved:
            where = sa.and_(identifiers.c.type == claim_type, identifiers.c.value == value)
            await self.give_back(identifiers, "customer_id", survivor, victim, where)

    async def cards_back(self, survivor: int, victim: int, numbers: list[str]) -> None:
        if numbers:
            await self.give_back(cards, "customer_id", survivor, victim, cards.c.card_number.in_(numbers))

    async def coupons_back(self, survivor: int, victim: int, ids: list[int]) -> None:
        if ids:
            await self.give_back(coupons, "customer_id", survivor, victim, coupons.c.id.in_(ids))

    async def accounts_back(self, survivor: int, victim: int, accounts: list[list[str]]) -> None:
        for source, account_id in accounts:
            where = sa.and_(profiles.c.source == source, profiles.c.account_id == account_id)
            await self.give_back(profiles, "customer_id", survivor, victim, where)

    async def unjoin_identifiers(self, survivor: int, joined: dict[str, list[dict[str, str]]]) -> None:
        for account, extra in joined.items():
            source, _, account_id = account.partition("/")
            where = sa.and_(
                profiles.c.org_id == self._org_id,
                profiles.c.customer_id == survivor,
                profiles.c.source == source,
                profiles.c.account_id == account_id,
            )
            listed = (await self._conn.execute(sa.select(profiles.c.identifiers).where(where))).scalar_one()
            kept = [i for i in listed if i not in extra]
            await self._conn.execute(profiles.update().where(where).values(identifiers=kept))

    async def enrolment_back(self, survivor: int, victim: int, program_id: int) -> None:
        await self.give_back(
            enrolments, "customer_id", survivor, victim, enrolments.c.program_id == program_id
        )

    async def referrals_back(self, survivor: int, victim: int, moved: dict[str, Any]) -> None:
        referees = moved.get("referees", [])
        if referees:
            await self.give_back(
                referrals, "referrer_id", survivor, victim, referrals.c.referee_id.in_(referees)
            )
        if moved.get("referred_by"):
            await self.give_back(referrals, "referee_id", survivor, victim, sa.true())
        if moved.get("code"):
            await self.give_back(
                referral_codes, "customer_id", survivor, victim, referral_codes.c.code == moved["code"]
            )

    async def subscriptions_back(self, survivor: int, victim: int, keys: list[list[str]]) -> None:
        for channel, priority, source, account_id in keys:
            where = sa.and_(
                subscriptions.c.channel == channel,
                subscriptions.c.priority == priority,
                subscriptions.c.source == source,
                subscriptions.c.account_id == account_id,
            )
            await self.give_back(subscriptions, "customer_id", survivor, victim, where)

    async def unmark(self, victim: int, values: dict[str, Any], at: dt.datetime) -> None:
        await self._conn.execute(
            customers.update()
            .where(customers.c.org_id == self._org_id, customers.c.id == victim)
            .values({**values, "merged_into": None, "updated_on": at, "version": customers.c.version + 1})
        )

    async def mark_undone(self, merge_id: str, at: dt.datetime) -> None:
        await self._conn.execute(
            merges.update()
            .where(merges.c.org_id == self._org_id, merges.c.id == merge_id)
            .values(undone_at=at)
        )
