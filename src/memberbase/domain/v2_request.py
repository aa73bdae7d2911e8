"""A v2 `POST /v2/customers` request as the rules see it, before and after validation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from memberbase.domain.cards import CardSeries
from memberbase.domain.customer import CustomerType, Warning_
from memberbase.domain.loyalty import Enrolment

# v2 identifier type names, and the claim type each is stored under. mobile, email and
# external id share their claims with v1.1, so one shopper is one customer in both APIs.
CLAIM_TYPES = {
    "mobile": "mobile",
    "email": "email",
    "externalId": "external_id",
    "wechat": "wechat",
    "martjackId": "martjackId",
    "fbId": "fbId",
    "tmall_uname": "tmall_uname",
    "cuid": "cuid",
    "ali_uname": "ali_uname",
    "jd_uname": "jd_uname",
    "vip_uname": "vip_uname",
    "mobilePush": "mobilePush",
    "line": "line",
    "unionId": "unionId",
}
CARD_TYPES = {"cardnumber", "card", "cardNumber"}
CARD_CLAIM = "cardnumber"
OTHER_IDENTIFIER_MAX = 250


@dataclass
class IdentifierIn:
    type: str
    value: str | None
    series_id: int | None = None
    series_code: str | None = None
    status_label: str | None = None
    extended_fields: dict[str, Any] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProfileIn:
    source: str | None
    account_id: str | None
    firstname: str | None
    lastname: str | None
    identifiers: list[IdentifierIn]
    comm_channels: list[dict[str, Any]]
    fields: dict[str, Any]


@dataclass
class EnrolmentIn:
    program_id: int
    tier_number: int | None
    loyalty_points: float
    tier_expiry: dt.datetime | None
    points_expiry: dt.datetime | None


@dataclass
class V2Draft:
    profiles: list[ProfileIn]
    loyalty_type: str | None
    associated_with: str | None
    create_date: dt.datetime | None
    extended_fields: dict[str, Any]
    enrolments: list[EnrolmentIn]
    referral_code: str | None
    status_label: str | None
    # Seed 003 lists `loyaltyType` at the top level; the hosted examples put it in loyaltyInfo.
    top_loyalty_type: str | None = None
    # Seed 003: a dummy/test customer's endpoints (at the top level or in an enrolment).
    endpoints_enabled: list[object] | None = None
    activity: str | None = None


@dataclass
class CardRequest:
    series: CardSeries
    number: str | None  # None: the series generates one
    status_label: str
    extended_fields: dict[str, Any]
    custom_fields: dict[str, Any]


@dataclass
class ValidProfile:
    source: str
    account_id: str
    firstname: str
    lastname: str
    claims: list[tuple[str, str]]  # (claim type, canonical value)
    wire_identifiers: list[dict[str, str]]  # as the profile shows them: v2 type names
    comm_channels: list[dict[str, Any]]
    fields: dict[str, str]


@dataclass
class ValidV2:
    profiles: list[ValidProfile]
    cards: list[CardRequest]
    loyalty_type: CustomerType
    associated_with: str | None
    create_date: dt.datetime | None
    extended_fields: dict[str, str | int]
    enrolments: list[Enrolment]
    points_expiry: dict[int, dt.datetime | None]
    referral_code: str | None
    status_label: str | None
    warnings: list[Warning_] = field(default_factory=list)
    endpoints_enabled: list[str] | None = None  # None: a real customer
    activity: str | None = None

    def claims(self) -> set[tuple[str, str]]:
        return {claim for profile in self.profiles for claim in profile.claims}

    @property
    def accounts(self) -> set[tuple[str, str]]:
        return {(p.source, p.account_id) for p in self.profiles}
