"""The v2 wire shapes of POST /v2/customers, mapped to the domain's request model.

Lenient where real clients are loose (booleans as "true", numbers as strings,
unknown keys ignored), strict where it matters (types of what is stored, no
control characters in any string).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from memberbase.domain.free_json import free_json_problem
from memberbase.domain.text import control_free_json, has_control
from memberbase.domain.v2_request import EnrolmentIn, IdentifierIn, ProfileIn, V2Draft


def _no_control(value: str) -> str:
    if has_control(value):
        raise ValueError("contains a NUL or control character")
    return value


def _sane_time(value: dt.datetime | None) -> dt.datetime | None:
    # Years near 1 or 9999 are typos, and converting them between zones overflows.
    if value is not None and not 1900 <= value.year <= 2999:
        raise ValueError("must be between the years 1900 and 2999")
    return value


def _scalar_text(value: object) -> object:
    # Identifier values arrive as numbers too (a mobile typed as a JSON number).
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _walk_strings(value: Any) -> Any:
    if not control_free_json(value):
        raise ValueError("contains a NUL or control character")
    problem = free_json_problem(value, "value")
    if problem:
        raise ValueError(problem)
    return value


def _few_channels(value: list[Any]) -> list[Any]:
    # Each channel is checked alone above; the list as a whole has the same bound.
    problem = free_json_problem(value, "commChannels")
    if problem:
        raise ValueError(problem)
    return value


Text = Annotated[str, AfterValidator(_no_control)]
IdText = Annotated[str, BeforeValidator(_scalar_text), AfterValidator(_no_control)]
FreeForm = Annotated[dict[str, Any], AfterValidator(_walk_strings)]
Time = Annotated[dt.datetime | None, AfterValidator(_sane_time)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class IdentifierWire(_In):
    type: Text
    value: IdText | None = None
    series_id: int | None = Field(None, alias="seriesId")
    series_code: Text | None = Field(None, alias="seriesCode")
    status_label: Text | None = Field(None, alias="statusLabel")
    extended_fields: FreeForm = Field(default_factory=dict, alias="extendedFields")
    custom_fields: FreeForm = Field(default_factory=dict, alias="customFields")


class ProfileWire(_In):
    first_name: Text | None = Field(None, alias="firstName")
    last_name: Text | None = Field(None, alias="lastName")
    identifiers: list[IdentifierWire] = Field(default_factory=list)
    comm_channels: Annotated[list[FreeForm], AfterValidator(_few_channels)] = Field(
        default_factory=list, alias="commChannels"
    )
    fields: FreeForm = Field(default_factory=dict)
    source: Text | None = None
    account_id: IdText | None = Field(None, alias="accountId")


class EnrolmentWire(_In):
    program_id: int = Field(alias="programId")
    tier_number: int | None = Field(None, alias="tierNumber")
    loyalty_points: float = Field(0, ge=0, le=1e12, alias="loyaltyPoints")
    tier_expiry_date: Time = Field(None, alias="tierExpiryDate")
    points_expiry_date: Time = Field(None, alias="pointsExpiryDate")
    # Seed 003 lists endPointsEnabled under the enrolment; the hosted notes at the top level.
    end_points_enabled: list[Any] | None = Field(None, max_length=10, alias="endPointsEnabled")


class LoyaltyInfoWire(_In):
    loyalty_type: Text | None = Field(None, alias="loyaltyType")


class CustomerWire(_In):
    profiles: list[ProfileWire] = Field(default_factory=list)
    loyalty_info: LoyaltyInfoWire | None = Field(None, alias="loyaltyInfo")
    loyalty_type: Text | None = Field(None, alias="loyaltyType")  # where seed 003 lists it
    end_points_enabled: list[Any] | None = Field(None, max_length=10, alias="endPointsEnabled")
    activity: Text | None = Field(None, max_length=50)
    associated_with: Text | None = Field(None, alias="associatedWith")
    create_date: Time = Field(None, alias="createDate")
    extended_fields: FreeForm = Field(default_factory=dict, alias="extendedFields")
    enrolments: list[EnrolmentWire] = Field(default_factory=list, alias="loyaltyProgramEnrollments")
    referral_code: Text | None = Field(None, max_length=100, alias="referralCode")
    status_label: Text | None = Field(None, alias="statusLabel")


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """v2 times carry an offset; one without is taken as UTC (the hosted API's rule)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def to_draft(wire: CustomerWire, query_source: str | None, query_account: str | None) -> V2Draft:
    """The domain request; `source`/`accountId` query parameters fill in for older clients (the body wins)."""
    profiles = [
        ProfileIn(
            source=p.source if p.source else query_source,
            account_id=p.account_id if p.account_id else query_account,
            firstname=p.first_name,
            lastname=p.last_name,
            identifiers=[
                IdentifierIn(
                    type=i.type,
                    value=i.value,
                    series_id=i.series_id,
                    series_code=i.series_code,
                    status_label=i.status_label,
                    extended_fields=i.extended_fields,
                    custom_fields=i.custom_fields,
                )
                for i in p.identifiers
            ],
            comm_channels=p.comm_channels,
            fields=p.fields,
        )
        for p in wire.profiles
    ]
    return V2Draft(
        profiles=profiles,
        loyalty_type=wire.loyalty_info.loyalty_type if wire.loyalty_info else None,
        associated_with=wire.associated_with,
        create_date=_aware(wire.create_date),
        extended_fields=wire.extended_fields,
        enrolments=[
            EnrolmentIn(
                program_id=e.program_id,
                tier_number=e.tier_number,
                loyalty_points=e.loyalty_points,
                tier_expiry=_aware(e.tier_expiry_date),
                points_expiry=_aware(e.points_expiry_date),
            )
            for e in wire.enrolments
        ],
        referral_code=wire.referral_code,
        status_label=wire.status_label,
        top_loyalty_type=wire.loyalty_type,
        endpoints_enabled=_endpoints(wire),
        activity=wire.activity,
    )


def _endpoints(wire: CustomerWire) -> list[object] | None:
    """Every endPointsEnabled list sent, joined; None when none was (a real customer)."""
    lists = [wire.end_points_enabled, *(e.end_points_enabled for e in wire.enrolments)]
    sent = [values for values in lists if values is not None]
    return None if not sent else [v for values in sent for v in values]
