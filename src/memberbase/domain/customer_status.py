"""Customer status labels: an org's own names for the fixed lifecycle statuses."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class CustomerStatus(StrEnum):
    ACTIVE = "Active"
    SUSPENDED = "Suspended"
    DELETED = "Deleted"
    FRAUD_SUSPECTED = "Fraud suspected"
    FRAUD_CONFIRMED = "Fraud confirmed"
    INTERNAL = "Internal"
    PENDING_DELETION = "Pending deletion"


class StatusLabel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1, max_length=100)
    status: CustomerStatus
    default: bool = False
