"""The customer as the rules see it: what a request asks for, and what is stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from memberbase.domain.codes import Code
from memberbase.domain.org_config import IdentifierType

if TYPE_CHECKING:  # domain.subscriptions imports this module
    from memberbase.domain.subscriptions import ItemIn


class CustomerType(StrEnum):
    LOYALTY = "LOYALTY"
    NON_LOYALTY = "NON_LOYALTY"


# v1.1 documents fraud statuses NORMAL..INVALID; its own sample sends Fraud_Suspected,
# so the customer-status names are accepted too. Stored upper-case.
FRAUD_STATUSES = (
    "NONE",
    "NORMAL",
    "OUTLIER",
    "FRAUD",
    "INTERNAL",
    "INVALID",
    "FRAUD_SUSPECTED",
    "FRAUD_CONFIRMED",
)


@dataclass(frozen=True)
class Failure:
    """A request item that cannot be done; `detail` says which field, for humans."""

    code: Code
    detail: str | None = None
    args: tuple[object, ...] = ()

    @property
    def message(self) -> str:
        text = self.code.format(*self.args)
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True)
class Warning_:
    """Something dropped or ignored while the item is stored; `detail` says which field, for humans."""

    code: Code
    args: tuple[object, ...] = ()
    detail: str | None = None

    @property
    def message(self) -> str:
        text = self.code.format(*self.args)
        return f"{text}: {self.detail}" if self.detail else text


@dataclass
class CustomerDraft:
    """A v1.1 item after its JSON shape was checked; values not yet validated."""

    mobile: str | None = None
    email: str | None = None
    external_id: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    type: str | None = None
    source: str | None = None
    account_id: str | None = None
    registered_on: dt.datetime | None = None  # naive, in the org's time zone
    updated_on: dt.datetime | None = None  # naive, in the org's time zone
    registered_till: str | None = None
    associated_with: str | None = None
    fraud_status: str | None = None
    comm_channels: list[dict[str, Any]] | None = None
    custom_fields: list[tuple[str, str]] = field(default_factory=list)
    extended_fields: list[tuple[str, object]] = field(default_factory=list)
    referral_code: str | None = None
    customer_id: int | None = None  # v1.1 customer/update's `id`
    opt_ins: list[ItemIn] = field(default_factory=list)  # subscriptions.subscription[]


@dataclass
class ValidDraft:
    """A draft whose every value passed the rules; identifiers are canonical."""

    identifiers: dict[IdentifierType, str]
    firstname: str | None
    lastname: str | None
    type: CustomerType | None
    source: str
    account_id: str
    registered_on: dt.datetime | None  # aware, UTC
    updated_on: dt.datetime | None  # aware, UTC
    registered_till: str
    associated_with: str | None
    fraud_status: str | None
    comm_channels: list[dict[str, Any]] | None
    custom_fields: dict[str, str]
    extended_fields: dict[str, str | int]
    warnings: list[Warning_] = field(default_factory=list)
    referral_code: str | None = None
    customer_id: int | None = None  # v1.1 customer/update's `id`
    till_sent: bool = False  # registered_till was given (else it is the caller's till)
    opt_ins: list[ItemIn] = field(default_factory=list)  # checked when recorded: bad ones warn


@dataclass
class CustomerRecord:
    """A stored customer, as the rules and the renderers need it."""

    id: int
    firstname: str
    lastname: str
    mobile: str | None
    email: str | None
    external_id: str | None
    type: CustomerType
    source: str
    account_id: str
    fraud_status: str
    registered_on: dt.datetime  # aware, UTC
    updated_on: dt.datetime  # aware, UTC
    registered_till: str
    associated_with: str | None
    comm_channels: list[dict[str, Any]]
    custom_fields: dict[str, str]
    extended_fields: dict[str, str | int]
    status_label: str | None = None
    referral_code: str | None = None
    version: int = 1  # bumped by every change; v2's ETag
    merged_into: int | None = None  # a merge's victim: the survivor's id
    erased_at: dt.datetime | None = None  # its personal data was erased (reads answer 8109)
    endpoints_enabled: list[str] | None = None  # a dummy/test customer's reachable endpoints
    activity: str | None = None  # lifecycle state named at registration (v2)

    def identifier(self, kind: IdentifierType) -> str | None:
        return {
            IdentifierType.MOBILE: self.mobile,
            IdentifierType.EMAIL: self.email,
            IdentifierType.EXTERNAL_ID: self.external_id,
        }[kind]

    def identifiers(self) -> dict[IdentifierType, str]:
        found = (
            (IdentifierType.MOBILE, self.mobile),
            (IdentifierType.EMAIL, self.email),
            (IdentifierType.EXTERNAL_ID, self.external_id),
        )
        return {kind: value for kind, value in found if value is not None}


@dataclass
class Profile:
    """One account of a customer in one source (per accountId for multi-account sources)."""

    source: str
    account_id: str
    firstname: str
    lastname: str
    identifiers: list[dict[str, str]]  # [{"type": "mobile", "value": "91…"}], v2 type names
    comm_channels: list[dict[str, Any]]
    fields: dict[str, str]
    created_at: dt.datetime
    created_till: str


# How the v1.1 identifier columns are named in v2 profiles.
V2_IDENTIFIER_NAMES = {"mobile": "mobile", "email": "email", "external_id": "externalId"}


def registration_profile(record: CustomerRecord) -> Profile:
    """The profile v1.1 keeps in step with the customer: the source it registered from."""
    identifiers = [
        {"type": V2_IDENTIFIER_NAMES[kind.value], "value": value}
        for kind, value in record.identifiers().items()
    ]
    return Profile(
        source=record.source,
        account_id=record.account_id,
        firstname=record.firstname,
        lastname=record.lastname,
        identifiers=identifiers,
        comm_channels=record.comm_channels,
        fields=record.custom_fields,
        created_at=record.registered_on,
        created_till=record.registered_till,
    )
