"""Deciding a v2 registration: create, add a source account to a customer, or refuse.

v2 never updates a customer's details (seeds 002-004):
- no identifier known: a new customer with these source accounts;
- the identifiers belong to one customer who has none of these source accounts:
  the accounts are added to that customer (warning 8050, its id returned);
- that customer already has one of these source accounts: 8006, nothing changes;
- the identifiers belong to different customers: 8052, nothing changes;
- a card number already issued: refused, nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import Failure, Warning_
from memberbase.domain.v2_request import CARD_CLAIM, ValidV2


@dataclass(frozen=True)
class Owner:
    customer_id: int
    accounts: frozenset[tuple[str, str]]


@dataclass
class CreateV2:
    warnings: list[Warning_] = field(default_factory=list)


@dataclass
class MergeV2:
    customer_id: int
    new_claims: set[tuple[str, str]]
    warnings: list[Warning_] = field(default_factory=list)


def decide_v2(valid: ValidV2, owners: dict[tuple[str, str], Owner]) -> CreateV2 | MergeV2 | Failure:
    """`owners` maps each claimed (type, value) of the request, cards included, to its holder."""
    for card in valid.cards:
        if card.number is not None and (CARD_CLAIM, card.number) in owners:
            return Failure(V2Codes.CARD_ALREADY_ISSUED, card.number)
    holders = {o.customer_id: o for o in owners.values()}
    if not holders:
        return CreateV2(list(valid.warnings))
    if len(holders) > 1:
        ids = ", ".join(str(i) for i in sorted(holders))
        return Failure(V2Codes.CONFLICTING_CUSTOMERS, f"the identifiers belong to customers {ids}")
    owner = next(iter(holders.values()))
    if valid.accounts & owner.accounts:
        return Failure(V2Codes.SAME_SOURCE_EXISTS, f"customer {owner.customer_id}")
    new_claims = {claim for claim in valid.claims() if claim not in owners}
    warnings = [*valid.warnings, Warning_(V2Codes.MERGED_ACROSS_SOURCES)]
    return MergeV2(owner.customer_id, new_claims, warnings)
