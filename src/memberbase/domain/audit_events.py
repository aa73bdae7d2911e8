"""What an audit row says changed, as the hosted audit API's events.

Audit rows store the change as written ({field: value} for a registration,
{field: {"from", "to"}} for an update, the added accounts for a merge); this
turns them into events with a type, the field, and its previous and current
values ("NA" where there was none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Seed 000, USER-CONTEXT-ENTITY-SOURCE: "The standard values for this field are: API, IMPORT,
# CONNECT_PLUS, MEMBER_CARE, REQUEST_WORKFLOW" (more by request). Any value is kept; one
# outside the list is flagged in the audit row's user context so reports can tell it apart.
STANDARD_ENTITY_SOURCES = frozenset({"API", "IMPORT", "CONNECT_PLUS", "MEMBER_CARE", "REQUEST_WORKFLOW"})
NON_STANDARD_SOURCE = "entitySourceNonStandard"


def flag_entity_source(context: dict[str, str]) -> dict[str, str]:
    """The user context, flagged ("true") when its entity source is not a standard value."""
    source = context.get("entitySource")
    if source is None or source.strip().upper() in STANDARD_ENTITY_SOURCES:
        return dict(context)
    return {**context, NON_STANDARD_SOURCE: "true"}


IDENTIFIERS = "Identifiers"
STANDARD_FIELD = "StandardField"
CUSTOM_FIELD = "CustomField"
EXTENDED_FIELD = "ExtendedField"
CUSTOMER_STATUS = "CustomerStatus"
CUSTOMER_MERGE = "CustomerMerge"
COMM_CHANNEL = "CommChannel"
SUBSCRIPTION_STATUS = "SubscriptionStatus"

# The referenceType filter values the audit API accepts, and the event type each selects.
REFERENCE_TYPES = {
    "Identifier": IDENTIFIERS,
    "StandardField": STANDARD_FIELD,
    "CustomField": CUSTOM_FIELD,
    "ExtendedField": EXTENDED_FIELD,
    "CustomerStatus": CUSTOMER_STATUS,
    "CustomerMerge": CUSTOMER_MERGE,
    "CommChannel": COMM_CHANNEL,
    "SubscriptionStatus": SUBSCRIPTION_STATUS,
}

_IDENTIFIER_FIELDS = {"mobile", "email", "external_id"}
_STANDARD_FIELDS = {
    "firstname",
    "lastname",
    "type",
    "fraud_status",
    "associated_with",
    "source",
    "account_id",
}
NA = "NA"


@dataclass(frozen=True)
class AuditEvent:
    event_type: str
    field: str
    previous: str
    current: str


def _text(value: Any) -> str:
    return NA if value is None or value == "" else str(value)


def _field_events(name: str, before: Any, after: Any) -> list[AuditEvent]:
    if name in ("custom_fields", "extended_fields"):
        kind = CUSTOM_FIELD if name == "custom_fields" else EXTENDED_FIELD
        old, new = before or {}, after or {}
        return [
            AuditEvent(kind, key, _text(old.get(key)), _text(new.get(key)))
            for key in sorted(set(old) | set(new))
            if old.get(key) != new.get(key)
        ]
    if name in _IDENTIFIER_FIELDS:
        kind = IDENTIFIERS
    elif name == "status_label":
        kind = CUSTOMER_STATUS
    elif name == "comm_channels":
        return [
            AuditEvent(
                COMM_CHANNEL, "commChannels", _text(before and len(before)), _text(after and len(after))
            )
        ]
    elif name in _STANDARD_FIELDS:
        kind = STANDARD_FIELD
    else:
        return []  # bookkeeping such as updated_on is not a change of the customer
    if _text(before) == _text(after):
        return []
    return [AuditEvent(kind, name, _text(before), _text(after))]


def _state(value: str) -> str:
    return NA if value == "NOT_SET" else value


def _subscription_field(change: dict[str, Any]) -> str:
    """CHANNEL.PRIORITY, with the source account when it is not INSTORE's."""
    name = f"{change['channel']}.{change['priority']}"
    if change.get("source", "INSTORE") != "INSTORE":
        name += f"@{change['source']}" + (f":{change['accountId']}" if change.get("accountId") else "")
    return name


def events_of(action: str, changes: dict[str, Any]) -> list[AuditEvent]:
    if action == "subscription.changed":
        return [
            AuditEvent(SUBSCRIPTION_STATUS, _subscription_field(c), _state(c["from"]), _state(c["to"]))
            for c in changes.get("subscriptions", [])
        ]
    if action == "customer.updated":
        found = []
        for name, diff in changes.items():
            found += _field_events(name, diff.get("from"), diff.get("to"))
        return found
    if action == "customer.merged":
        found = [
            AuditEvent(CUSTOMER_MERGE, "sourceAccount", NA, f"{source}:{account}" if account else source)
            for source, account in changes.get("accounts_added", [])
        ]
        found += [
            AuditEvent(IDENTIFIERS, kind, NA, value) for kind, value in changes.get("identifiers_added", [])
        ]
        found += [AuditEvent(IDENTIFIERS, "cardnumber", NA, number) for number in changes.get("cards", [])]
        return found
    found = []
    for name, value in changes.items():
        found += _field_events(name, None, value)
    found += [AuditEvent(IDENTIFIERS, "cardnumber", NA, number) for number in changes.get("cards", [])]
    return found
