"""Fetching customers of one org by identifier or id (v1.1 customer/get)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import Codes
from memberbase.domain.customer import CustomerRecord, Failure, Warning_
from memberbase.domain.identifiers import (
    id_to_look_up,
    mobile_to_look_up,
    normalise_email,
    value_to_retry,
)
from memberbase.domain.loyalty import Enrolment
from memberbase.domain.org_config import IdentifierType, OrgConfig
from memberbase.domain.text import has_control
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.database import reading
from memberbase.storage.lookups import Enrolled, customer_lookups
from memberbase.storage.rewards import RewardReader
from memberbase.usecases.results import CustomerView, ItemResult

LOOKUP_EMAIL_MAX = 255


@dataclass(frozen=True)
class Lookup:
    """One value asked for: `kind` is an identifier type, or None for a customer id."""

    kind: IdentifierType | None
    value: str

    @property
    def field(self) -> str:
        return "id" if self.kind is None else self.kind.value


def _canonical(lookup: Lookup, org: OrgConfig) -> str | None:
    if has_control(lookup.value):
        return None  # no stored identifier has one
    if lookup.kind is IdentifierType.MOBILE:
        return mobile_to_look_up(lookup.value, org)
    if lookup.kind is IdentifierType.EMAIL:
        return normalise_email(lookup.value, LOOKUP_EMAIL_MAX)
    if lookup.kind is IdentifierType.EXTERNAL_ID:
        return id_to_look_up(lookup.value)
    return lookup.value.strip() or None


async def _find_enrolled(
    engine: AsyncEngine, org: OrgConfig, kind: IdentifierType, asked: str, value: str
) -> Enrolled | None:
    # Identifier lookups of concurrent requests share a statement (storage.lookups).
    enrolled = await customer_lookups(engine).find_enrolled(org.id, kind, value)
    if enrolled is None:
        retry = value_to_retry(kind, asked, value, org)
        if retry is not None:
            enrolled = await customer_lookups(engine).find_enrolled(org.id, kind, retry)
    return enrolled


async def get_customers(engine: AsyncEngine, org: OrgConfig, lookups: list[Lookup]) -> list[ItemResult]:
    found: list[CustomerRecord | None] = []
    enrolments: dict[int, list[Enrolment]] = {}
    by_id: dict[int, int] = {}  # position in `found` -> customer id asked for
    survivors: dict[int, int] = {}  # position -> survivor, where the id asked for was merged away
    for lookup in lookups:
        value = _canonical(lookup, org)
        if value is None or lookup.kind is None:
            if value is not None and value.isascii() and value.isdigit() and len(value) <= 18:
                by_id[len(found)] = int(value)  # an id: read below, with the rest by id
            found.append(None)
            continue
        enrolled = await _find_enrolled(engine, org, lookup.kind, lookup.value, value)
        found.append(None if enrolled is None else enrolled[0])
        if enrolled is not None:
            enrolments[enrolled[0].id] = enrolled[1]
    # Codes and coupons exist only where the org runs referrals or coupon series; an org
    # without them, asked by identifier, needs no connection of its own here.
    if by_id or org.referral_campaigns or org.coupon_series:
        async with reading(engine) as conn:
            customers = CustomerRepository(conn, org.id)
            for position, customer_id in by_id.items():
                record = await customers.get_or_none(customer_id)
                if record is not None and record.merged_into is not None:
                    survivors[position] = record.merged_into  # a merge's victim reads as its survivor
                    record = await customers.get_or_none(record.merged_into)
                found[position] = record
            ids = [r.id for r in found if r is not None]
            enrolments |= await customers.enrolments([i for i in ids if i not in enrolments])
            rewards = RewardReader(conn, org.id)
            codes = await rewards.referral_codes(ids) if org.referral_campaigns else {}
            held = await rewards.coupons(ids) if org.coupon_series else {i: [] for i in ids}
    else:
        codes, held = {}, {r.id: [] for r in found if r is not None}
    results = []
    for position, (lookup, record) in enumerate(zip(lookups, found, strict=True)):
        echo: dict[str, object] = {lookup.field: lookup.value}
        if record is None:
            results.append(ItemResult(failure=Failure(Codes.CUSTOMER_NOT_FOUND), echo=echo))
        elif record.erased_at is not None:  # found by id: its identifiers are gone
            results.append(ItemResult(failure=Failure(Codes.CUSTOMER_ERASED), echo=echo))
        else:
            view = CustomerView(record, enrolments[record.id], codes.get(record.id), held[record.id])
            warned = [Warning_(Codes.SURVIVOR_RETRIEVED)] if position in survivors else []
            results.append(
                ItemResult(success=Codes.CUSTOMER_RETRIEVED, customer=view, echo=echo, warnings=warned)
            )
    return results
