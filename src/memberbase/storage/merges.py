"""Moving what a merge's victim holds to its survivor, and the record of each merge.

Every statement is keyed by org and customer; nothing here decides what moves (see
usecases/merge_customers.py), it only moves it and says exactly what it moved, so the
record can later be shown, previewed and undone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain.merges import Holdings
from memberbase.storage.tables import (
    cards,
    consent_log,
    coupons,
    currency_balances,
    customers,
    enrolments,
    identifiers,
    merges,
    profiles,
    referral_codes,
    referrals,
    reward_ledger,
    subscriptions,
)


class MergeRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def _move(
        self, table: sa.Table, column: str, victim: int, survivor: int, *, where: Any = None
    ) -> None:
        statement = (
            table.update()
            .where(table.c.org_id == self._org_id, table.c[column] == victim)
            .values({column: survivor})
        )
        if where is not None:
            statement = statement.where(where)
        await self._conn.execute(statement)

    async def _values(self, query: sa.Select[Any]) -> list[Any]:
        return [row[0] if len(row) == 1 else tuple(row) for row in (await self._conn.execute(query)).all()]

    async def move_identifiers(self, victim: int, survivor: int) -> list[list[str]]:
        held = await self._values(
            sa.select(identifiers.c.type, identifiers.c.value)
            .where(identifiers.c.org_id == self._org_id, identifiers.c.customer_id == victim)
            .order_by(identifiers.c.type, identifiers.c.value)
        )
        await self._move(identifiers, "customer_id", victim, survivor)
        return [list(pair) for pair in held]

    async def move_cards(self, victim: int, survivor: int) -> list[str]:
        numbers = await self._values(
            sa.select(cards.c.card_number).where(
                cards.c.org_id == self._org_id, cards.c.customer_id == victim
            )
        )
        await self._move(cards, "customer_id", victim, survivor)
        return sorted(numbers)

    async def move_coupons(self, victim: int, survivor: int) -> list[int]:
        ids = await self._values(
            sa.select(coupons.c.id).where(coupons.c.org_id == self._org_id, coupons.c.customer_id == victim)
        )
        await self._move(coupons, "customer_id", victim, survivor)
        return sorted(int(i) for i in ids)

    async def move_profiles(self, victim: int, survivor: int) -> tuple[list[list[str]], dict[str, Any]]:
        """Source accounts the survivor lacks move; in those both have, the survivor's profile
        also lists the victim's identifiers (theirs moved with the claims). Returns the accounts
        moved and, per shared account ("SOURCE/account"), the identifiers joined."""

        def held(customer_id: int) -> sa.Select[Any]:
            return sa.select(profiles.c.source, profiles.c.account_id, profiles.c.identifiers).where(
                profiles.c.org_id == self._org_id, profiles.c.customer_id == customer_id
            )

        theirs = {(r[0], r[1]): list(r[2]) for r in (await self._conn.execute(held(victim))).all()}
        ours = {(r[0], r[1]): list(r[2]) for r in (await self._conn.execute(held(survivor))).all()}
        moving = sorted(set(theirs) - set(ours))
        for source, account_id in moving:
            await self._move(
                profiles,
                "customer_id",
                victim,
                survivor,
                where=sa.and_(profiles.c.source == source, profiles.c.account_id == account_id),
            )
        joined: dict[str, Any] = {}
        for account in sorted(set(theirs) & set(ours)):
            extra = [i for i in theirs[account] if i not in ours[account]]
            if extra:
                await self._conn.execute(
                    profiles.update()
                    .where(
                        profiles.c.org_id == self._org_id,
                        profiles.c.customer_id == survivor,
                        profiles.c.source == account[0],
                        profiles.c.account_id == account[1],
                    )
                    .values(identifiers=[*ours[account], *extra])
                )
                joined[f"{account[0]}/{account[1]}"] = extra
        return [list(a) for a in moving], joined

    async def move_subscriptions(self, victim: int, survivor: int) -> list[list[str]]:
        """The victim's channel states the survivor has not set move; where both set one, the
        survivor's stands (its consent is the later word of the same person, or equal)."""
        key = (
            subscriptions.c.channel,
            subscriptions.c.priority,
            subscriptions.c.source,
            subscriptions.c.account_id,
        )

        def held(customer_id: int) -> sa.Select[Any]:
            return sa.select(*key).where(
                subscriptions.c.org_id == self._org_id, subscriptions.c.customer_id == customer_id
            )

        theirs = {tuple(r) for r in (await self._conn.execute(held(victim))).all()}
        ours = {tuple(r) for r in (await self._conn.execute(held(survivor))).all()}
        moving = sorted(theirs - ours)
        for channel, priority, source, account_id in moving:
            where = sa.and_(
                subscriptions.c.channel == channel,
                subscriptions.c.priority == priority,
                subscriptions.c.source == source,
                subscriptions.c.account_id == account_id,
            )
            await self._move(subscriptions, "customer_id", victim, survivor, where=where)
        return [list(k) for k in moving]

    async def enrolments_of(self, customer_id: int) -> dict[int, dict[str, Any]]:
        rows = (
            await self._conn.execute(
                sa.select(enrolments).where(
                    enrolments.c.org_id == self._org_id, enrolments.c.customer_id == customer_id
                )
            )
        ).mappings()
        return {int(r["program_id"]): dict(r) for r in rows}

    async def move_enrolment(self, victim: int, survivor: int, program_id: int) -> None:
        await self._move(
            enrolments, "customer_id", victim, survivor, where=enrolments.c.program_id == program_id
        )

    async def set_enrolment(self, customer_id: int, program_id: int, values: dict[str, Any]) -> None:
        await self._conn.execute(
            enrolments.update()
            .where(
                enrolments.c.org_id == self._org_id,
                enrolments.c.customer_id == customer_id,
                enrolments.c.program_id == program_id,
            )
            .values(values)
        )

    async def ledger(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self._conn.execute(reward_ledger.insert(), [{**r, "org_id": self._org_id} for r in rows])

    async def currencies_of(self, customer_id: int) -> dict[str, tuple[str, int]]:
        rows = await self._values(
            sa.select(
                currency_balances.c.identifier, currency_balances.c.name, currency_balances.c.balance
            ).where(
                currency_balances.c.org_id == self._org_id, currency_balances.c.customer_id == customer_id
            )
        )
        return {identifier: (name, int(balance)) for identifier, name, balance in rows}

    async def set_currency(self, customer_id: int, identifier: str, name: str, balance: int) -> None:
        where = sa.and_(
            currency_balances.c.org_id == self._org_id,
            currency_balances.c.customer_id == customer_id,
            currency_balances.c.identifier == identifier,
        )
        found = (await self._conn.execute(sa.select(currency_balances.c.balance).where(where))).first()
        if found is None:
            await self._conn.execute(
                currency_balances.insert().values(
                    org_id=self._org_id,
                    customer_id=customer_id,
                    identifier=identifier,
                    name=name,
                    balance=balance,
                )
            )
        else:
            await self._conn.execute(currency_balances.update().where(where).values(balance=balance))

    async def move_referrals(self, victim: int, survivor: int) -> dict[str, Any]:
        """Whom the victim referred becomes the survivor's; who referred the victim moves only
        when nobody referred the survivor (a customer is referred once); its referral code
        moves only when the survivor has none."""
        referred = await self._values(
            sa.select(referrals.c.referee_id).where(
                referrals.c.org_id == self._org_id, referrals.c.referrer_id == victim
            )
        )
        await self._move(referrals, "referrer_id", victim, survivor)
        moved: dict[str, Any] = {
            "referees": sorted(int(i) for i in referred),
            "referred_by": False,
            "code": None,
        }

        async def referred_by(customer_id: int) -> bool:
            query = sa.select(referrals.c.referee_id).where(
                referrals.c.org_id == self._org_id, referrals.c.referee_id == customer_id
            )
            return (await self._conn.execute(query)).first() is not None

        if await referred_by(victim) and not await referred_by(survivor):
            await self._move(referrals, "referee_id", victim, survivor)
            moved["referred_by"] = True

        async def code_of(customer_id: int) -> str | None:
            query = sa.select(referral_codes.c.code).where(
                referral_codes.c.org_id == self._org_id, referral_codes.c.customer_id == customer_id
            )
            return (await self._conn.execute(query)).scalar_one_or_none()

        victim_code = await code_of(victim)
        if victim_code is not None and await code_of(survivor) is None:
            await self._move(referral_codes, "customer_id", victim, survivor)
            moved["code"] = victim_code
        return moved

    async def mark_merged(self, victim: int, survivor: int, at: dt.datetime) -> None:
        await self._conn.execute(
            customers.update()
            .where(customers.c.org_id == self._org_id, customers.c.id == victim)
            .values(merged_into=survivor, updated_on=at, version=customers.c.version + 1)
        )

    async def consent_entries(self, customer_id: int) -> int:
        """How many consent log rows the customer has: a merge leaves them in place (the log is
        append-only) and the survivor's log reads them from then on."""
        query = sa.select(sa.func.count()).where(
            consent_log.c.org_id == self._org_id, consent_log.c.customer_id == customer_id
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def absorbed(self, survivor: int) -> list[int]:
        """The survivor and every customer merged into it, directly or through another victim."""
        found, frontier = [survivor], [survivor]
        while frontier:
            query = sa.select(customers.c.id).where(
                customers.c.org_id == self._org_id, customers.c.merged_into.in_(frontier)
            )
            frontier = [int(i) for i in (await self._conn.execute(query)).scalars() if i not in found]
            found += frontier
        return found

    async def add(self, row: dict[str, Any]) -> None:
        await self._conn.execute(merges.insert().values({**row, "org_id": self._org_id}))

    async def _counts(self, query: sa.Select[Any]) -> dict[int, int]:
        return {int(k): int(n) for k, n in (await self._conn.execute(query)).all()}

    async def holdings(self, customer_ids: list[int]) -> dict[int, Holdings]:
        """Identifiers held and merges survived (not undone), per customer: what the caps count."""
        ids = sorted(set(customer_ids))
        claims = await self._counts(
            sa.select(identifiers.c.customer_id, sa.func.count())
            .where(identifiers.c.org_id == self._org_id, identifiers.c.customer_id.in_(ids))
            .group_by(identifiers.c.customer_id)
        )
        survived = await self._counts(
            sa.select(merges.c.survivor_id, sa.func.count())
            .where(
                merges.c.org_id == self._org_id, merges.c.survivor_id.in_(ids), merges.c.undone_at.is_(None)
            )
            .group_by(merges.c.survivor_id)
        )
        return {i: Holdings(int(claims.get(i, 0)), int(survived.get(i, 0))) for i in ids}

    async def for_customer(self, customer_id: int) -> list[dict[str, Any]]:
        """Merges this customer took part in, as survivor or victim, oldest first."""
        query = (
            sa.select(merges)
            .where(
                merges.c.org_id == self._org_id,
                sa.or_(merges.c.survivor_id == customer_id, merges.c.victim_id == customer_id),
            )
            .order_by(merges.c.occurred_at, merges.c.id)
        )
        return [dict(r) for r in (await self._conn.execute(query)).mappings()]
