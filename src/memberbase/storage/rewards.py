"""The rewards ledger, balances, coupons, referral codes and referrals of one org."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain.rewards import CouponAward, CurrencyAward, PointsAward
from memberbase.storage.counters import take_ids
from memberbase.storage.database import Statement
from memberbase.storage.tables import (
    coupons,
    currency_balances,
    enrolments,
    referral_codes,
    referrals,
    reward_ledger,
)


@dataclass(frozen=True)
class Balance:
    loyalty_points: int
    lifetime_points: int
    tier_serial: int


_INSERT_LEDGER = Statement(reward_ledger.insert())
_INSERT_COUPON = coupons.insert()


def ledger_row(org_id: int, award: PointsAward | CurrencyAward, reason: str = "points") -> dict[str, Any]:
    """A ledger entry: points (reason `points`, or `opening` for a v2 enrolment's) or a currency."""
    common = {
        "org_id": org_id,
        "entry_key": award.entry_key,
        "customer_id": award.customer_id,
        "rule_id": award.rule_id,
        "is_referrer": award.is_referrer,
        "awarded_at": award.awarded_on,
    }
    if isinstance(award, PointsAward):
        return {
            **common,
            "kind": reason,
            "program_id": award.program_id,
            "currency": None,
            "raw_value": award.raw_points,
            "value": award.points,
            "expires_on": award.expires_on,
        }
    return {
        **common,
        "kind": "alternate_currency",
        "program_id": None,
        "currency": award.identifier,
        "raw_value": award.raw_value,
        "value": award.value,
        "expires_on": None,
    }


def coupon_row(org_id: int, award: CouponAward, code: str) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "series_id": award.series.id,
        "code": code,
        "customer_id": award.customer_id,
        "rule_id": award.rule_id,
        "entry_key": award.entry_key,
        "is_referrer": award.is_referrer,
        "valid_till": award.valid_till,
        "issued_at": award.awarded_on,
    }


_BY_ORG: sa.BindParameter[int] = sa.bindparam("org_id")
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
# Built once (the registration path asks on every call): no statement or cache key per call.
_GRANTED = sa.union_all(
    sa.select(reward_ledger.c.entry_key).where(
        reward_ledger.c.org_id == _BY_ORG, reward_ledger.c.customer_id.in_(_IDS)
    ),
    sa.select(coupons.c.entry_key).where(coupons.c.org_id == _BY_ORG, coupons.c.customer_id.in_(_IDS)),
)
_REFERRAL_CODES = sa.select(referral_codes.c.customer_id, referral_codes.c.code).where(
    referral_codes.c.org_id == _BY_ORG, referral_codes.c.customer_id.in_(_IDS)
)


class RewardRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def granted(self, customer_ids: Iterable[int]) -> frozenset[str]:
        """Entry keys already paid to these customers (points, currencies and coupons)."""
        ids = sorted(set(customer_ids))
        if not ids:
            return frozenset()
        rows = await self._conn.execute(_GRANTED, {"org_id": self._org_id, "ids": ids})
        return frozenset(r[0] for r in rows)

    async def add_points(self, award: PointsAward, reason: str = "points") -> Balance | None:
        """Ledger row plus balance; None when the customer is not enrolled in the programme."""
        params = {
            "w_org_id": self._org_id,
            "w_customer_id": award.customer_id,
            "w_program_id": award.program_id,
            "points": award.points,
            "expires": award.expires_on,
        }
        rows = await _BUMP_POINTS.fetch(self._conn, params)
        if not rows:
            return None
        await _INSERT_LEDGER.execute(self._conn, ledger_row(self._org_id, award, reason))
        row = rows[0]
        return Balance(int(row["loyalty_points"]), int(row["lifetime_points"]), int(row["tier_serial"]))

    async def set_tier(self, customer_id: int, program_id: int, serial: int, expires: dt.datetime) -> None:
        await self._conn.execute(
            enrolments.update()
            .where(
                enrolments.c.org_id == self._org_id,
                enrolments.c.customer_id == customer_id,
                enrolments.c.program_id == program_id,
            )
            .values(tier_serial=serial, tier_expires_on=expires)
        )

    async def add_currency(self, award: CurrencyAward) -> int:
        """Ledger row plus balance; returns the balance after the award."""
        await _INSERT_LEDGER.execute(self._conn, ledger_row(self._org_id, award))
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(currency_balances).values(
            org_id=self._org_id,
            customer_id=award.customer_id,
            identifier=award.identifier,
            name=award.name,
            balance=award.value,
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=["org_id", "customer_id", "identifier"],
            set_={"balance": currency_balances.c.balance + award.value, "name": award.name},
        ).returning(currency_balances.c.balance)
        balance: int = (await self._conn.execute(upsert)).scalar_one()
        return int(balance)

    async def add_coupon(self, award: CouponAward, code: str) -> int:
        """Issue the coupon; a code another coupon holds raises IntegrityError (the caller retries)."""
        row = coupon_row(self._org_id, award, code)
        if self._conn.dialect.name == "sqlite":
            coupon_id = await take_ids(self._conn, "coupon")
            await self._conn.execute(_INSERT_COUPON, {**row, "id": coupon_id})
            return coupon_id
        result = await self._conn.execute(coupons.insert().returning(coupons.c.id), row)
        return int(result.scalar_one())

    async def referral_code_of(self, customer_id: int) -> str | None:
        query = sa.select(referral_codes.c.code).where(
            referral_codes.c.org_id == self._org_id, referral_codes.c.customer_id == customer_id
        )
        return (await self._conn.execute(query)).scalar_one_or_none()

    async def holder_of(self, code: str) -> int | None:
        query = sa.select(referral_codes.c.customer_id).where(
            referral_codes.c.org_id == self._org_id, referral_codes.c.code == code
        )
        found = (await self._conn.execute(query)).scalar_one_or_none()
        return None if found is None else int(found)

    async def add_referral_code(self, customer_id: int, code: str) -> None:
        await self._conn.execute(
            referral_codes.insert().values(org_id=self._org_id, code=code, customer_id=customer_id)
        )

    async def add_referral(
        self, referee_id: int, referrer_id: int, campaign_id: int, code: str, at: dt.datetime
    ) -> None:
        await self._conn.execute(
            referrals.insert().values(
                org_id=self._org_id,
                referee_id=referee_id,
                referrer_id=referrer_id,
                campaign_id=campaign_id,
                code=code,
                referred_at=at,
            )
        )

    async def referral_count(self, referrer_id: int) -> int:
        query = sa.select(sa.func.count()).where(
            referrals.c.org_id == self._org_id, referrals.c.referrer_id == referrer_id
        )
        return int((await self._conn.execute(query)).scalar_one())


def _earliest(column: sa.ColumnElement[dt.datetime]) -> sa.ColumnElement[dt.datetime]:
    """The enrolment's next points expiry: the sooner of what it had and the award's (`expires`).

    An award that never expires (NULL) keeps what the enrolment had: `column > NULL` is not true.
    """
    new = sa.bindparam("expires", type_=column.type)
    return sa.case((column.is_(None), new), (column > new, new), else_=column)


# Built once: the registration path pays points on every call.
_BUMP_POINTS = Statement(
    enrolments.update()
    .where(
        # Named apart from the columns: an UPDATE reserves the column names for its SET values.
        enrolments.c.org_id == sa.bindparam("w_org_id"),
        enrolments.c.customer_id == sa.bindparam("w_customer_id"),
        enrolments.c.program_id == sa.bindparam("w_program_id"),
    )
    .values(
        loyalty_points=enrolments.c.loyalty_points + sa.bindparam("points", type_=sa.Integer),
        lifetime_points=enrolments.c.lifetime_points + sa.bindparam("points", type_=sa.Integer),
        points_expire_on=_earliest(enrolments.c.points_expire_on),
    )
    .returning(enrolments.c.loyalty_points, enrolments.c.lifetime_points, enrolments.c.tier_serial)
)


@dataclass(frozen=True)
class HeldCurrency:
    identifier: str
    name: str
    balance: int


@dataclass(frozen=True)
class HeldCoupon:
    id: int
    series_id: int
    code: str
    valid_till: dt.datetime
    issued_at: dt.datetime


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class RewardReader:
    """What customers hold, for the read APIs: one query per kind for a page of customers."""

    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def referral_codes(self, ids: list[int]) -> dict[int, str]:
        rows = await self._conn.execute(_REFERRAL_CODES, {"org_id": self._org_id, "ids": ids})
        return {r.customer_id: r.code for r in rows}

    async def currencies(self, ids: list[int]) -> dict[int, list[HeldCurrency]]:
        c = currency_balances.c
        query = (
            sa.select(c.customer_id, c.identifier, c.name, c.balance)
            .where(c.org_id == self._org_id, c.customer_id.in_(ids))
            .order_by(c.customer_id, c.identifier)
        )
        found: dict[int, list[HeldCurrency]] = {i: [] for i in ids}
        for r in await self._conn.execute(query):
            found[r.customer_id].append(HeldCurrency(r.identifier, r.name, int(r.balance)))
        return found

    async def coupons(self, ids: list[int]) -> dict[int, list[HeldCoupon]]:
        c = coupons.c
        query = (
            sa.select(c.customer_id, c.id, c.series_id, c.code, c.valid_till, c.issued_at)
            .where(c.org_id == self._org_id, c.customer_id.in_(ids))
            .order_by(c.customer_id, c.id)
        )
        found: dict[int, list[HeldCoupon]] = {i: [] for i in ids}
        for r in await self._conn.execute(query):
            found[r.customer_id].append(
                HeldCoupon(r.id, r.series_id, r.code, _aware(r.valid_till), _aware(r.issued_at))
            )
        return found
