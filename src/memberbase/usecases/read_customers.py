"""Reading customers for the v2 API: lookup by identifier, and full details by id."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import CustomerRecord, Failure, Profile
from memberbase.domain.identifiers import (
    id_to_look_up,
    mobile_to_look_up,
    normalise_email,
    value_to_retry,
)
from memberbase.domain.loyalty import Enrolment
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.sources import SOURCES, account_of, canonical_source
from memberbase.domain.subscriptions import SubscriptionKey
from memberbase.domain.text import has_control
from memberbase.domain.v2_request import CARD_CLAIM, CARD_TYPES, CLAIM_TYPES
from memberbase.storage.cards import Card, CardRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.database import reading
from memberbase.storage.lookups import customer_lookups
from memberbase.storage.rewards import HeldCoupon, HeldCurrency, RewardReader
from memberbase.storage.subscriptions import SubscriptionRepository

ALL_SOURCES = "ALL"


@dataclass
class CustomerDetails:
    record: CustomerRecord
    profiles: list[Profile]
    enrolments: list[Enrolment]
    cards: list[Card]
    referral_code: str | None = None
    currencies: list[HeldCurrency] = field(default_factory=list)
    coupons: list[HeldCoupon] = field(default_factory=list)
    merged_from: int | None = None  # the merge victim's id that was asked for
    subscriptions: dict[SubscriptionKey, bool] = field(default_factory=dict)  # the states set


@dataclass(frozen=True)
class LookupQuery:
    source: str | None
    account_id: str | None
    identifier_name: str | None
    identifier_value: str | None


def _claim(query: LookupQuery, org: OrgConfig) -> tuple[str, str] | Failure:
    if not query.source:
        return Failure(V2Codes.LOOKUP_NO_SOURCE)
    source = canonical_source(query.source)
    if source != ALL_SOURCES and source not in SOURCES:
        return Failure(V2Codes.SOURCE_INVALID, f"{query.source!r}")
    if not query.identifier_name or not query.identifier_value:
        return Failure(V2Codes.LOOKUP_NO_IDENTIFIER, "pass identifierName and identifierValue")
    name, value = query.identifier_name, query.identifier_value.strip()
    if has_control(value):
        return Failure(V2Codes.CUSTOMER_NOT_FOUND)
    if name not in CLAIM_TYPES and name not in CARD_TYPES:
        return Failure(V2Codes.INVALID_IDENTIFIER, f"{name!r}")
    claim = CARD_CLAIM if name in CARD_TYPES else CLAIM_TYPES[name]
    if claim == "mobile":
        canonical = mobile_to_look_up(value, org)
    elif claim == "email":
        canonical = normalise_email(value, 255)
    else:  # external ids, source ids and card numbers, as registration stores them
        canonical = id_to_look_up(value)
    if canonical is None:
        return Failure(V2Codes.CUSTOMER_NOT_FOUND)
    return claim, canonical


async def lookup(engine: AsyncEngine, org: OrgConfig, query: LookupQuery) -> int | Failure:
    """The id of the customer holding the identifier, who must have the named source account."""
    claim = _claim(query, org)
    if isinstance(claim, Failure):
        return claim
    source = canonical_source(query.source or "")
    account = None if source == ALL_SOURCES else (source, account_of(source, query.account_id))
    found = await customer_lookups(engine).holder_of(org.id, claim, account)
    if found is None:
        retry = value_to_retry(claim[0], query.identifier_value or "", claim[1], org)
        if retry is not None:
            found = await customer_lookups(engine).holder_of(org.id, (claim[0], retry), account)
    if found is None:
        return Failure(V2Codes.CUSTOMER_NOT_FOUND)
    holder, has_account = found
    if account is not None and not has_account:
        return Failure(V2Codes.CUSTOMER_NOT_FOUND, f"no {source} account {account[1]!r} for this identifier")
    return holder


async def details(engine: AsyncEngine, org: OrgConfig, customer_id: int) -> CustomerDetails | None:
    async with reading(engine) as conn:
        customers = CustomerRepository(conn, org.id)
        record = await customers.get_or_none(customer_id)
        merged_from = None
        if record is not None and record.merged_into is not None:
            merged_from, record = customer_id, await customers.get_or_none(record.merged_into)
        if record is None:
            return None
        customer_id = record.id
        profiles = (await customers.profiles([customer_id]))[customer_id]
        enrolments = (await customers.enrolments([customer_id]))[customer_id]
        cards = (await CardRepository(conn, org.id).for_customers([customer_id]))[customer_id]
        rewards = RewardReader(conn, org.id)
        code = (await rewards.referral_codes([customer_id])).get(customer_id)
        currencies = (await rewards.currencies([customer_id]))[customer_id]
        held = (await rewards.coupons([customer_id]))[customer_id]
        states = (await SubscriptionRepository(conn, org.id).states([customer_id]))[customer_id]
    return CustomerDetails(record, profiles, enrolments, cards, code, currencies, held, merged_from, states)
