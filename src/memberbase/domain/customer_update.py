"""What a v1.1 customer/update item changes: pure rules over the stored customer.

The item names its customer by `id`, else by the first of its identifiers that finds
one (the org's primary first). Its other identifiers ask for a change:
- the primary identifier never changes here (warning 91005): `update_identity` and v2's
  changeIdentifier exist for that;
- a secondary identifier is filled or replaced only where its CONF_ALLOW_*_UPDATE switch
  is on (else warning 91006, the value kept);
- an identifier another customer holds, where the switch allows the change, names the
  same shopper twice: the customer being updated merges into its holder (the hosted
  API's "merged automatically", survivor the account that held it, as v2's
  changeIdentifier rule says). With the switch off nothing merges (warning 91006).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from memberbase.domain.codes import Codes
from memberbase.domain.customer import CustomerRecord, Failure, ValidDraft, Warning_
from memberbase.domain.org_config import IdentifierType, OrgConfig
from memberbase.domain.registration import updated_profile

_SECONDARY_ORDER = (IdentifierType.MOBILE, IdentifierType.EMAIL, IdentifierType.EXTERNAL_ID)


def lookup_order(draft: ValidDraft, org: OrgConfig) -> list[tuple[IdentifierType, str]]:
    """The identifiers that may name the customer, in the order they are tried."""
    primary = org.configs.primary_key
    order = (primary, *(k for k in _SECONDARY_ORDER if k is not primary))
    return [(kind, draft.identifiers[kind]) for kind in order if kind in draft.identifiers]


@dataclass
class UpdatePlan:
    changes: dict[str, Any]  # column -> new value (identifiers apart)
    set_identifiers: dict[IdentifierType, str] = field(default_factory=dict)
    merge_into: CustomerRecord | None = None  # the holder of an identifier sent: the survivor
    warnings: list[Warning_] = field(default_factory=list)


def plan_update(
    customer: CustomerRecord,
    draft: ValidDraft,
    owners: dict[IdentifierType, CustomerRecord],
    org: OrgConfig,
    now: dt.datetime,
) -> UpdatePlan | Failure:
    """`owners`: the holder of each identifier of the draft that `customer` does not hold."""
    changes = updated_profile(customer, draft, now)
    if isinstance(changes, Failure):
        return changes
    if draft.till_sent and draft.registered_till != customer.registered_till:
        changes["registered_till"] = draft.registered_till
    if draft.registered_on is not None and draft.registered_on != customer.registered_on:
        changes["registered_on"] = draft.registered_on
    plan = UpdatePlan(changes)
    for kind, value in lookup_order(draft, org):
        held = customer.identifier(kind)
        if held == value:
            continue
        if kind is org.configs.primary_key and held is not None:
            plan.warnings.append(Warning_(Codes.PRIMARY_NOT_UPDATABLE, (kind.label,)))
            continue
        if not org.configs.allows_update_of(kind):
            plan.warnings.append(Warning_(Codes.IDENTIFIER_UPDATE_NOT_ALLOWED, (kind.label,)))
            continue
        owner = owners.get(kind)
        if owner is None or owner.id == customer.id:
            plan.set_identifiers[kind] = value
        elif plan.merge_into is None or plan.merge_into.id == owner.id:
            plan.merge_into = owner
        else:  # two other customers: merging three at once is a request for a person to review
            plan.warnings.append(Warning_(Codes.IDENTIFIER_TAKEN, (kind.label,)))
    return plan
