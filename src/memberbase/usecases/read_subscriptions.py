"""Reading subscriptions and the consent log; finding the customer a subscription call names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import Codes
from memberbase.domain.customer import CustomerRecord, Failure
from memberbase.domain.identifiers import mobile_to_look_up, mobile_to_retry, normalise_email
from memberbase.domain.org_config import IdentifierType, OrgConfig
from memberbase.domain.subscriptions import SubscriptionKey
from memberbase.domain.text import has_control
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.database import reading
from memberbase.storage.merges import MergeRepository
from memberbase.storage.subscriptions import ConsentEntry, SubscriptionRepository

IDENTIFIER_FIELDS = ("mobile", "email", "external_id", "id")
ID_DIGITS_MAX = 18
EMAIL_MAX = 255
# A victim's survivor may itself have been merged since: follow a few hops, never a loop.
_MERGE_HOPS = 8

States = dict[SubscriptionKey, bool]


@dataclass(frozen=True)
class Found:
    record: CustomerRecord
    states: States


async def find_customer(
    customers: CustomerRepository, org: OrgConfig, asked: Sequence[tuple[str, str]]
) -> CustomerRecord | Failure:
    """The one customer the (field, value) identifiers name: 1104 when none is usable or they
    name different customers, 1012 when nobody holds them."""
    if not asked:
        return Failure(Codes.SUBSCRIPTION_IDENTIFIER_INVALID, f"pass one of {', '.join(IDENTIFIER_FIELDS)}")
    found: dict[int, CustomerRecord] = {}
    for name, value in asked:
        record = await _find_one(customers, org, name, value)
        if isinstance(record, Failure):
            return record
        found[record.id] = record
    if len(found) > 1:
        return Failure(Codes.SUBSCRIPTION_IDENTIFIER_INVALID, "the identifiers name different customers")
    return next(iter(found.values()))


async def _find_one(
    customers: CustomerRepository, org: OrgConfig, name: str, value: str
) -> CustomerRecord | Failure:
    text = value.strip()
    if not text or has_control(text):
        return Failure(Codes.SUBSCRIPTION_IDENTIFIER_INVALID, f"{name} {value!r}")
    if name == "id":
        if not (text.isascii() and text.isdigit() and len(text) <= ID_DIGITS_MAX):
            return Failure(Codes.SUBSCRIPTION_IDENTIFIER_INVALID, f"id {value!r} is not a customer id")
        record = await customers.get_or_none(int(text))
    elif name == "mobile":
        canonical = mobile_to_look_up(text, org)
        if canonical is None:
            return Failure(Codes.SUBSCRIPTION_IDENTIFIER_INVALID, f"mobile {value!r}")
        record = await customers.find_by_identifier(IdentifierType.MOBILE, canonical)
        retry = mobile_to_retry(text, canonical, org) if record is None else None
        if retry is not None:
            record = await customers.find_by_identifier(IdentifierType.MOBILE, retry)
    elif name == "email":
        canonical = normalise_email(text, EMAIL_MAX)
        if canonical is None:
            return Failure(Codes.SUBSCRIPTION_IDENTIFIER_INVALID, f"email {value!r}")
        record = await customers.find_by_identifier(IdentifierType.EMAIL, canonical)
    else:
        record = await customers.find_by_identifier(IdentifierType.EXTERNAL_ID, text)
    if record is None:
        return Failure(Codes.CUSTOMER_NOT_FOUND, f"{name} {value!r}")
    return record


async def find_with_states(
    engine: AsyncEngine, org: OrgConfig, asked: Sequence[tuple[str, str]]
) -> list[Found | Failure]:
    """For each (field, value): the customer holding it with their states, or why not (v1.1 GET)."""
    async with reading(engine) as conn:
        customers = CustomerRepository(conn, org.id)
        found = [await find_customer(customers, org, [pair]) for pair in asked]
        ids = [r.id for r in found if isinstance(r, CustomerRecord)]
        states = await SubscriptionRepository(conn, org.id).states(ids)
    return [r if isinstance(r, Failure) else Found(r, states[r.id]) for r in found]


async def states_of(engine: AsyncEngine, org: OrgConfig, customer_ids: Sequence[int]) -> dict[int, States]:
    """The states of customers already known to exist (customer/get, v2 details)."""
    if not customer_ids:
        return {}
    async with reading(engine) as conn:
        return await SubscriptionRepository(conn, org.id).states(customer_ids)


async def customer_states(engine: AsyncEngine, org: OrgConfig, customer_id: int) -> States | None:
    """One customer's states; None when the org has no such customer."""
    async with reading(engine) as conn:
        if await CustomerRepository(conn, org.id).get_or_none(customer_id) is None:
            return None
        return (await SubscriptionRepository(conn, org.id).states([customer_id]))[customer_id]


async def consent_log(engine: AsyncEngine, org: OrgConfig, customer_id: int) -> list[ConsentEntry] | None:
    """One customer's consent log, oldest first, with the logs of the customers merged into it
    (a merged victim's id reads its survivor's); None when the org has no such customer."""
    async with reading(engine) as conn:
        customers = CustomerRepository(conn, org.id)
        found = await customers.get_or_none(customer_id)
        for _ in range(_MERGE_HOPS):
            if found is None or found.merged_into is None:
                break
            found = await customers.get_or_none(found.merged_into)
        if found is None:
            return None
        members = await MergeRepository(conn, org.id).absorbed(found.id)
        return await SubscriptionRepository(conn, org.id).log_for(members)
