"""Changing a customer's status label: the org's labels, and the moves no API may make.

A label belongs to a status (an org's "Suspicious" to Suspended), so changing the label
changes the status. Deleted and Pending deletion are the erasure workflow's to set: no
status call moves a customer into them or out of Deleted.
"""

from __future__ import annotations

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import Failure
from memberbase.domain.customer_status import CustomerStatus, StatusLabel
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.text import has_control

REASON_MAX = 500
_ERASURE_STATUSES = (CustomerStatus.DELETED, CustomerStatus.PENDING_DELETION)


def wire_status(status: CustomerStatus) -> str:
    """The status as the status log spells it: ACTIVE, FRAUD_SUSPECTED, …"""
    return status.name


def check_status_change(
    org: OrgConfig, label: object, reason: object, current_label: str | None
) -> tuple[StatusLabel, str] | Failure:
    """The org's label named `label` and the trimmed reason, or why the change is refused."""
    if not isinstance(reason, str) or not reason.strip():
        return Failure(V2Codes.INPUT_INVALID, "reason is required")
    if len(reason) > REASON_MAX or has_control(reason):
        return Failure(V2Codes.INPUT_INVALID, f"reason must be at most {REASON_MAX} printable characters")
    if not isinstance(label, str) or not label.strip():
        return Failure(V2Codes.STATUS_LABEL_INVALID, "label is required")
    wanted = org.status_label(label.strip())
    if wanted is None:
        return Failure(V2Codes.STATUS_LABEL_INVALID, f"{label!r} is not a label of this organisation")
    current = org.status_label(current_label) if current_label else None
    if wanted.status in _ERASURE_STATUSES:
        return Failure(V2Codes.STATUS_CHANGE_NOT_ALLOWED, "deletion statuses are set by a deletion request")
    if current is not None and current.status is CustomerStatus.DELETED:
        return Failure(V2Codes.STATUS_CHANGE_NOT_ALLOWED, "the customer is deleted")
    return wanted, reason.strip()
