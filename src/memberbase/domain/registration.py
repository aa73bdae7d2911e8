"""Deciding what a v1.1 registration does: create, update, or refuse.

v1.1 `customer/add` is an upsert: an identifier that already belongs to a
customer of the org makes the call an update of that customer. When the
identifiers point at different customers, two org switches decide (seeds 000
and 001, "Additional notes"):

- CONFIG_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH (overrides the strict check):
  the primary identifier wins; clashing secondaries are ignored, and when the
  primary is new a new customer is registered with it.
- CONF_PRIMARY_IDENTIFIER_STRICT_CHECK: refuse with 1047.
- neither: the customer the primary (else the first secondary) points at is
  updated, and identifiers owned by someone else are ignored (warning 91007).

An identifier of the chosen customer changes value only where its
CONF_ALLOW_*_UPDATE switch is on (else warning 91006); an empty one is filled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from memberbase.domain.codes import Codes
from memberbase.domain.customer import CustomerRecord, CustomerType, Failure, ValidDraft, Warning_
from memberbase.domain.org_config import IdentifierType, OrgConfig

# Secondaries are considered in this order after the primary.
_ORDER = (IdentifierType.MOBILE, IdentifierType.EMAIL, IdentifierType.EXTERNAL_ID)


@dataclass
class Create:
    identifiers: dict[IdentifierType, str]
    warnings: list[Warning_] = field(default_factory=list)


@dataclass
class Update:
    customer: CustomerRecord
    set_identifiers: dict[IdentifierType, str]  # new value per identifier to fill or change
    warnings: list[Warning_] = field(default_factory=list)


Decision = Create | Update | Failure


def _ordered(primary: IdentifierType) -> tuple[IdentifierType, ...]:
    return (primary, *(k for k in _ORDER if k is not primary))


def decide(draft: ValidDraft, owners: dict[IdentifierType, CustomerRecord], org: OrgConfig) -> Decision:
    """`owners` maps each identifier of the draft to the stored customer holding it, if any."""
    cfg = org.configs
    primary = cfg.primary_key
    order = [k for k in _ordered(primary) if k in draft.identifiers]
    if not owners:
        return Create(dict(draft.identifiers))

    primary_owner = owners.get(primary)
    if primary_owner is not None:
        target = primary_owner
    else:
        target = owners[next(k for k in order if k in owners)]
        primary_value = draft.identifiers.get(primary)
        held = target.identifier(primary)
        if primary_value is not None and held is not None and held != primary_value:
            # The primary is new but a secondary belongs to a customer with another primary.
            if cfg.skip_secondary_on_primary_mismatch:
                return _create_ignoring_owned(draft, owners)
            if cfg.strict_primary_check:
                return Failure(Codes.PRIMARY_MISMATCH)
    clashing = [k for k in order if k in owners and owners[k].id != target.id]
    if clashing and cfg.strict_primary_check and not cfg.skip_secondary_on_primary_mismatch:
        return Failure(Codes.PRIMARY_MISMATCH)
    return _update(draft, target, owners, order, org)


def _create_ignoring_owned(draft: ValidDraft, owners: dict[IdentifierType, CustomerRecord]) -> Create:
    kept = {k: v for k, v in draft.identifiers.items() if k not in owners}
    warnings = [Warning_(Codes.IDENTIFIER_TAKEN, (k.label,)) for k in _ORDER if k in owners]
    return Create(kept, warnings)


def _update(
    draft: ValidDraft,
    target: CustomerRecord,
    owners: dict[IdentifierType, CustomerRecord],
    order: list[IdentifierType],
    org: OrgConfig,
) -> Update:
    warnings: list[Warning_] = []
    changes: dict[IdentifierType, str] = {}
    for kind in order:
        value = draft.identifiers[kind]
        owner = owners.get(kind)
        if owner is not None:
            if owner.id != target.id:
                warnings.append(Warning_(Codes.IDENTIFIER_TAKEN, (kind.label,)))
            continue
        held = target.identifier(kind)
        if held is None or org.configs.allows_update_of(kind):
            changes[kind] = value
        elif held != value:
            warnings.append(Warning_(Codes.IDENTIFIER_UPDATE_NOT_ALLOWED, (kind.label,)))
    return Update(target, changes, warnings)


def updated_profile(
    customer: CustomerRecord, draft: ValidDraft, now: dt.datetime
) -> dict[str, Any] | Failure:
    """The profile fields an update changes, as {column: new value}; identifiers apart.

    Empty strings leave a value as it is: tills send "" for "not captured".
    """
    changes: dict[str, Any] = {}
    if draft.type is CustomerType.NON_LOYALTY and customer.type is CustomerType.LOYALTY:
        return Failure(Codes.LOYALTY_DOWNGRADE_NOT_ALLOWED)
    if draft.type is not None and draft.type is not customer.type:
        changes["type"] = draft.type
    for name in ("firstname", "lastname"):
        value = getattr(draft, name)
        if value and value != getattr(customer, name):
            changes[name] = value
    if draft.associated_with is not None and draft.associated_with != customer.associated_with:
        changes["associated_with"] = draft.associated_with
    if draft.fraud_status is not None and draft.fraud_status != customer.fraud_status:
        changes["fraud_status"] = draft.fraud_status
    if draft.comm_channels is not None and draft.comm_channels != customer.comm_channels:
        changes["comm_channels"] = draft.comm_channels
    custom = {**customer.custom_fields, **draft.custom_fields}
    if custom != customer.custom_fields:
        changes["custom_fields"] = custom
    extended = {**customer.extended_fields, **draft.extended_fields}
    if extended != customer.extended_fields:
        changes["extended_fields"] = extended
    changes["updated_on"] = draft.updated_on or now
    return changes


def new_profile(
    draft: ValidDraft, identifiers: dict[IdentifierType, str], now: dt.datetime
) -> dict[str, Any]:
    """Column values of a customer a Create registers."""
    return {
        "firstname": draft.firstname or "",
        "lastname": draft.lastname or "",
        "mobile": identifiers.get(IdentifierType.MOBILE),
        "email": identifiers.get(IdentifierType.EMAIL),
        "external_id": identifiers.get(IdentifierType.EXTERNAL_ID),
        "type": draft.type or CustomerType.LOYALTY,
        "source": draft.source,
        "account_id": draft.account_id,
        "fraud_status": draft.fraud_status or "NONE",
        "registered_on": draft.registered_on or now,
        "updated_on": draft.updated_on or draft.registered_on or now,
        "registered_till": draft.registered_till,
        "associated_with": draft.associated_with,
        "comm_channels": draft.comm_channels or [],
        "custom_fields": draft.custom_fields,
        "extended_fields": draft.extended_fields,
    }
