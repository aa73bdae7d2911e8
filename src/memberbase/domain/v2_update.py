"""What a v2 PUT (by id or by lookup) changes: profile fields per source account, custom and
extended fields, comm channels and the loyalty type. Pure.

Identifiers and source accounts do not change here: a profile naming an account the
customer lacks is 8065, an identifier the customer does not hold is 8312 (use
changeIdentifier). The customer row mirrors the profile it registered with (its source
account): that profile's names, fields and channels are the customer's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import CustomerRecord, CustomerType, Failure, Profile, Warning_
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.sources import account_of, canonical_source
from memberbase.domain.v2_request import V2Draft
from memberbase.domain.v2_validation import canonical_claim, checked_fields, v2_name


@dataclass
class V2UpdatePlan:
    changes: dict[str, Any]  # customer columns
    profiles: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # account -> columns
    warnings: list[Warning_] = field(default_factory=list)


def _account(
    source: str | None, account: str | None, query: tuple[str | None, str | None]
) -> tuple[str, str]:
    name = canonical_source(source or query[0] or "")
    return name, account_of(name, account if account else query[1])


def plan_v2_update(
    current: CustomerRecord,
    stored: list[Profile],
    held: set[tuple[str, str]],
    draft: V2Draft,
    org: OrgConfig,
    query: tuple[str | None, str | None],
) -> V2UpdatePlan | Failure:
    """`held`: every (type, value) the customer holds, cards included; `query`: source and
    accountId from the query string, for profiles that name none."""
    if draft.enrolments:
        return Failure(V2Codes.INPUT_INVALID, "enrolments are not changed here; set loyaltyInfo.loyaltyType")
    if draft.status_label and draft.status_label != current.status_label:
        return Failure(V2Codes.INPUT_INVALID, "statusLabel changes through PUT /v2/customers/lookup/status")
    by_account = {(p.source, p.account_id): p for p in stored}
    plan = V2UpdatePlan(changes={})
    primary = (current.source, current.account_id)
    for given in draft.profiles:
        account = _account(given.source, given.account_id, query)
        profile = by_account.get(account)
        if profile is None:
            return Failure(
                V2Codes.NOT_IN_SOURCE, f"no {account[0]} account {account[1]!r} for customer {current.id}"
            )
        for item in given.identifiers:
            claim = canonical_claim(item, org)
            if isinstance(claim, Failure):
                return claim
            if claim is not None and claim not in held:
                return Failure(V2Codes.IDENTIFIERS_NOT_CHANGEABLE, f"{item.type} {item.value!r}")
        checked = checked_fields(given.fields, {}, org)
        if isinstance(checked, Failure):
            return checked
        fields, _, warnings = checked
        plan.warnings += [w for w in warnings if w.code not in {x.code for x in plan.warnings}]
        values: dict[str, Any] = {}
        for name, value in (("firstname", given.firstname), ("lastname", given.lastname)):
            text = v2_name(value, {"firstname": "firstName", "lastname": "lastName"}[name])
            if isinstance(text, Failure):
                return text
            if text and text != getattr(profile, name):
                values[name] = text
        merged_fields = {**profile.fields, **fields}
        if merged_fields != profile.fields:
            values["fields"] = merged_fields
        if given.comm_channels and given.comm_channels != profile.comm_channels:
            values["comm_channels"] = given.comm_channels
        if values:
            plan.profiles[account] = values
        if account == primary:
            renamed = {"fields": "custom_fields"}
            plan.changes.update({renamed.get(k, k): v for k, v in values.items()})
    checked = checked_fields({}, draft.extended_fields, org)
    if isinstance(checked, Failure):
        return checked
    extended = {**current.extended_fields, **checked[1]}
    if extended != current.extended_fields:
        plan.changes["extended_fields"] = extended
    if draft.loyalty_type:
        wanted = draft.loyalty_type.strip().lower()
        if wanted not in ("loyalty", "non_loyalty"):
            return Failure(V2Codes.INPUT_INVALID, "loyaltyInfo.loyaltyType must be loyalty or non_loyalty")
        if wanted == "non_loyalty" and current.type is CustomerType.LOYALTY:
            return Failure(V2Codes.LOYALTY_DOWNGRADE_NOT_ALLOWED)
        if wanted == "loyalty" and current.type is CustomerType.NON_LOYALTY:
            plan.changes["type"] = CustomerType.LOYALTY
    return plan
