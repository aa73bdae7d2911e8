"""Checking a v2 registration against the org: sources, identifiers, cards, enrolments, labels.

Where v1.1 refuses, v2 is lenient in the documented places: names are trimmed and
cut at 100 characters, an invalid *secondary* mobile or email is dropped with a
warning (8056/8055), and empty extended-field values are ignored. An invalid
*primary* identifier, a source account the org does not have, and anything the
org has not configured (programme, tier, card series, status label) are errors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import CustomerType, Failure, Warning_
from memberbase.domain.endpoints import parse_endpoints
from memberbase.domain.extended_fields import CATALOGUE, ExtendedFieldError, parse_value
from memberbase.domain.identifiers import (
    COUNTRY_CODE_HINT,
    MobileProblem,
    canonical_id,
    external_id_fits,
    normalise_email,
    normalise_mobile,
)
from memberbase.domain.loyalty import Enrolment, enrolments_on_registration, tier_expiry
from memberbase.domain.org_config import IdentifierType, OrgConfig
from memberbase.domain.sources import MULTI_ACCOUNT_SOURCES, SOURCES, account_of, canonical_source
from memberbase.domain.v2_request import (
    CARD_CLAIM,
    CARD_TYPES,
    CLAIM_TYPES,
    OTHER_IDENTIFIER_MAX,
    CardRequest,
    EnrolmentIn,
    IdentifierIn,
    ProfileIn,
    V2Draft,
    ValidProfile,
    ValidV2,
)
from memberbase.domain.validation import NAME_CHARACTERS, check_custom_field, name_is_valid

NAME_MAX = 100
EMAIL_MAX = 255


class _Refused(Exception):
    def __init__(self, failure: Failure) -> None:
        self.failure = failure


def _refuse(code: Any, detail: str | None = None, *args: object) -> _Refused:
    return _Refused(Failure(code, detail, args))


def v2_name(value: str | None, field: str) -> str | Failure:
    """A v2 name: trimmed, cut at 100 (seeds 002/004: the excess "is ignored"), then held to
    the characters both versions allow (seed 002 line 187, seed 000 line 136: "Alphanumeric,
    spaces, hyphens, and apostrophes supported")."""
    text = (value or "").strip()[:NAME_MAX]
    if not name_is_valid(text, NAME_MAX):
        return Failure(V2Codes.INPUT_INVALID, f"{field} allows {NAME_CHARACTERS}")
    return text


def _name(value: str | None, field: str) -> str:
    named = v2_name(value, field)
    if isinstance(named, Failure):
        raise _Refused(named)
    return named


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "null"))


def _source(profile: ProfileIn, org: OrgConfig) -> tuple[str, str]:
    if _empty(profile.source):
        raise _refuse(V2Codes.NO_SOURCE)
    source = canonical_source(str(profile.source))
    if source not in SOURCES:
        raise _refuse(V2Codes.SOURCE_INVALID, f"{profile.source!r} is not one of {', '.join(SOURCES)}")
    if source in MULTI_ACCOUNT_SOURCES and _empty(profile.account_id):
        raise _refuse(V2Codes.ACCOUNT_ID_MISSING, _which_accounts(source, org))
    account = account_of(source, profile.account_id)
    problem = org.source_problem(source, account)
    if problem is not None:
        raise _refuse(V2Codes.SOURCE_INVALID, problem)
    return source, account


def _which_accounts(source: str, org: OrgConfig) -> str:
    """8045's detail: the accounts the org has in `source`, one or several (or none)."""
    accounts = next((s.accounts for s in org.sources if s.source == source), ())
    named = ", ".join(repr(a) for a in accounts)
    if len(accounts) == 1:
        return f"pass accountId {named}, this organisation's {source} account"
    if accounts:
        return f"pass accountId, one of this organisation's {source} accounts: {named}"
    return f"{source} takes an accountId, and this organisation has no {source} account"


def _identifier(item: IdentifierIn, org: OrgConfig, warnings: list[Warning_]) -> tuple[str, str, str] | None:
    """(claim type, canonical value, wire type), or None when a secondary was dropped."""
    if item.type not in CLAIM_TYPES:
        known = ", ".join([*CLAIM_TYPES, "cardnumber"])
        raise _refuse(V2Codes.NO_VALID_IDENTIFIER, f"unknown identifier type {item.type!r}; known: {known}")
    claim = CLAIM_TYPES[item.type]
    raw = (item.value or "").strip()
    primary = org.configs.primary_key.value == claim
    if raw == "":
        return None
    if claim == "mobile":
        result = normalise_mobile(raw, org)
        if result.problem is MobileProblem.NO_BASE_COUNTRY:
            raise _refuse(V2Codes.MOBILE_COUNTRY_NOT_CONFIGURED, "the organisation has no base country")
        if result.canonical is None:
            if primary:
                hint = COUNTRY_CODE_HINT if result.problem is MobileProblem.NO_COUNTRY_CODE else None
                raise _refuse(V2Codes.INVALID_PRIMARY_ID, hint, raw)
            hint = COUNTRY_CODE_HINT if result.problem is MobileProblem.NO_COUNTRY_CODE else None
            warnings.append(Warning_(V2Codes.INVALID_MOBILE_DROPPED, detail=hint))
            return None
        return claim, result.canonical, item.type
    if claim == "email":
        # Seeds 002 and 004: "The character limit for an email can go up to 255 characters.
        # Characters exceeding this limit is ignored by the system": the first 255 are kept
        # and checked like any email (cut inside its domain, it is an invalid one).
        email = normalise_email(raw[:EMAIL_MAX], EMAIL_MAX)
        if email is None:
            if primary:
                raise _refuse(V2Codes.INVALID_PRIMARY_ID, None, raw)
            warnings.append(Warning_(V2Codes.INVALID_EMAIL_DROPPED))
            return None
        return claim, email, item.type
    value = _canonical_id(raw, item.type)
    if value == "":
        return None
    if claim == "external_id":
        if not external_id_fits(value, org):
            raise _refuse(V2Codes.EXTERNAL_ID_INVALID, "outside the organisation's external id length rules")
        return claim, value, item.type
    if len(value) > OTHER_IDENTIFIER_MAX:
        raise _refuse(V2Codes.NO_VALID_IDENTIFIER, f"{item.type} is longer than {OTHER_IDENTIFIER_MAX}")
    return claim, value, item.type


def _canonical_id(raw: str, wire_type: str) -> str:
    """The id in its stored form (as v1.1 and the import store it: identifiers.canonical_id)."""
    result = canonical_id(raw)
    if result.canonical is None:
        raise _refuse(V2Codes.IDENTIFIER_INVISIBLE, f"{wire_type} {result.problem}")
    return result.canonical


def _card(item: IdentifierIn, org: OrgConfig) -> CardRequest:
    series = org.series(item.series_id, item.series_code)
    if series is None:
        wanted = item.series_id if item.series_id is not None else item.series_code
        raise _refuse(V2Codes.CARD_SERIES_UNKNOWN, f"no card series {wanted!r}; pass seriesId or seriesCode")
    if item.status_label is None or _empty(item.status_label):
        # Seed 003 ("statusLabel … Required for the identifier type: card") and the
        # changeIdentifier page ("statusLabel is required for card issuance").
        raise _refuse(
            V2Codes.CARD_STATUS_NOT_ALLOWED,
            f"statusLabel is required for a card; one of {', '.join(series.status_labels)}",
        )
    label = series.label(item.status_label.strip())
    if label is None:
        raise _refuse(
            V2Codes.CARD_STATUS_NOT_ALLOWED,
            f"{item.status_label!r} is not one of {', '.join(series.status_labels)}",
        )
    number = _canonical_id(item.value or "", item.type) or None
    if number is None and not series.generate:
        raise _refuse(V2Codes.CARD_NUMBER_INVALID, f"series {series.id} does not generate numbers: pass one")
    if number is not None and not series.accepts(number):
        raise _refuse(
            V2Codes.CARD_NUMBER_INVALID,
            f"series {series.id} takes {series.number_length} characters starting {series.prefix!r}",
        )
    extended = _extended(item.extended_fields, org, org.card_extended_fields, "card extendedFields")
    return CardRequest(series, number, label, extended, dict(item.custom_fields))


def _fields(values: dict[str, Any], org: OrgConfig, warnings: list[Warning_]) -> dict[str, str]:
    kept: dict[str, str] = {}
    dropped: list[str] = []
    for name, value in values.items():
        if _empty(value):
            continue
        checked = check_custom_field(org, name, str(value))
        if isinstance(value, dict | list):
            dropped.append(f"{name} is not a single value")
        elif isinstance(checked, str):
            dropped.append(checked)
        else:
            kept[checked.name] = str(value)
    if dropped:  # one 1017 for the whole customer, naming the fields of every profile
        place = next((i for i, w in enumerate(warnings) if w.code is V2Codes.CUSTOM_FIELD_INVALID), None)
        if place is None:
            warnings.append(Warning_(V2Codes.CUSTOM_FIELD_INVALID, detail="; ".join(dropped)))
        else:
            earlier = warnings[place].detail or ""
            warnings[place] = Warning_(V2Codes.CUSTOM_FIELD_INVALID, detail="; ".join([earlier, *dropped]))
    return kept


def _extended(
    values: dict[str, Any],
    org: OrgConfig,
    enabled: tuple[str, ...] | None = None,
    where: str = "extendedFields",
) -> dict[str, str | int]:
    """Values of the extended fields `enabled` (the customer's by default), typed by the catalogue."""
    allowed = org.extended_fields if enabled is None else enabled
    parsed: dict[str, str | int] = {}
    for name, raw in values.items():
        if _empty(raw):
            continue  # CONF_REJECT_EMPTY_OR_NULL_EF_VALUES, on by default: empty values are ignored
        definition = CATALOGUE.get(name)
        if definition is None or name not in allowed:
            named = ", ".join(allowed) or "none"
            problem = f"{where}: {name!r} is not enabled (enabled: {named})"
            raise _refuse(V2Codes.EXTENDED_FIELD_INVALID, problem)
        try:
            parsed[name] = parse_value(definition, raw)
        except ExtendedFieldError as exc:
            raise _refuse(V2Codes.EXTENDED_FIELD_INVALID, f"{where}: {exc}") from exc
    return parsed


@dataclass(frozen=True)
class Joining:
    """Where a registration without explicit enrolments joins: the till's programme, or all."""

    till_code: str = ""
    every_program: bool = False


def _enrolments(
    asked: list[EnrolmentIn], org: OrgConfig, loyalty: bool, registered_on: dt.datetime, joining: Joining
) -> tuple[list[Enrolment], dict[int, dt.datetime | None]]:
    if not loyalty:
        return [], {}
    if not asked:
        return enrolments_on_registration(org, registered_on, joining.till_code, joining.every_program), {}
    enrolments: list[Enrolment] = []
    points_expiry: dict[int, dt.datetime | None] = {}
    for e in asked:
        program = next((p for p in org.programs if p.id == e.program_id), None)
        if program is None:
            raise _refuse(V2Codes.PROGRAM_UNKNOWN, f"programId {e.program_id}")
        serial = e.tier_number if e.tier_number is not None else program.lowest_tier.serial
        if program.tier(serial) is None:
            raise _refuse(V2Codes.TIER_UNKNOWN, f"tierNumber {serial} of programId {program.id}")
        if e.loyalty_points < 0:
            raise _refuse(V2Codes.INPUT_INVALID, "loyaltyPoints must not be negative")
        points = round(e.loyalty_points)
        expires = e.tier_expiry or tier_expiry(registered_on, org, program.tier(serial))
        enrolments.append(Enrolment(program.id, serial, expires, points, points))
        points_expiry[program.id] = e.points_expiry
    if len({e.program_id for e in enrolments}) != len(enrolments):
        raise _refuse(V2Codes.INPUT_INVALID, "each programId may be enrolled once")
    return enrolments, points_expiry


def _status_label(wanted: str | None, org: OrgConfig, warnings: list[Warning_]) -> str | None:
    if not _empty(wanted):
        assert wanted is not None
        label = org.status_label(wanted.strip())
        if label is None:
            known = ", ".join(s.label for s in org.customer_status_labels) or "none configured"
            raise _refuse(V2Codes.STATUS_LABEL_INVALID, f"{wanted!r} (labels: {known})")
        return label.label
    default = org.default_status_label
    if default is None:
        warnings.append(Warning_(V2Codes.DEFAULT_STATUS_LABEL_NOT_SET))
        return None
    return default.label


def validate_v2(
    draft: V2Draft, org: OrgConfig, now: dt.datetime, joining: Joining = Joining()
) -> ValidV2 | Failure:
    try:
        return _validate(draft, org, now, joining)
    except _Refused as refused:
        return refused.failure


def _validate(draft: V2Draft, org: OrgConfig, now: dt.datetime, joining: Joining) -> ValidV2:
    if not draft.profiles:
        raise _refuse(V2Codes.CUSTOMER_DETAILS_MISSING, "profiles must hold at least one profile")
    warnings: list[Warning_] = []
    profiles: list[ValidProfile] = []
    cards: list[CardRequest] = []
    for given in draft.profiles:
        source, account = _source(given, org)
        claims: list[tuple[str, str]] = []
        wire: list[dict[str, str]] = []
        for item in given.identifiers:
            if item.type in CARD_TYPES:
                cards.append(_card(item, org))
                continue
            found = _identifier(item, org, warnings)
            if found is not None and (found[0], found[1]) not in claims:
                claims.append((found[0], found[1]))
                wire.append({"type": found[2], "value": found[1]})
        profiles.append(
            ValidProfile(
                source=source,
                account_id=account,
                firstname=_name(given.firstname, "firstName"),
                lastname=_name(given.lastname, "lastName"),
                claims=claims,
                wire_identifiers=wire,
                comm_channels=given.comm_channels,
                fields=_fields(given.fields, org, warnings),
            )
        )
    if len({(p.source, p.account_id) for p in profiles}) != len(profiles):
        raise _refuse(V2Codes.INPUT_INVALID, "two profiles name the same source account")
    if not any(p.claims for p in profiles) and not cards:
        raise _refuse(V2Codes.NO_VALID_IDENTIFIER)
    _check_required(profiles, org)
    if draft.create_date is not None and draft.create_date > now + dt.timedelta(days=1):
        raise _refuse(V2Codes.INVALID_REGISTRATION_DATE, "createDate is in the future")
    limit = org.configs.min_registration_date
    if draft.create_date is not None and limit and draft.create_date.astimezone(org.zone).date() < limit:
        raise _refuse(V2Codes.INVALID_REGISTRATION_DATE, f"createDate is before {limit}")
    loyalty = _loyalty_type(draft)
    associated = None if _empty(draft.associated_with) else (draft.associated_with or "").strip()
    if associated is not None and not org.configs.registration_info_from_base_store:
        switch = "USE_CRM_REGISTRATION_INFO_FROM_BASE_STORE is off for this organisation"
        warnings.append(Warning_(V2Codes.ASSOCIATED_WITH_INVALID, detail=switch))
        associated = None
    elif associated is not None and org.till(associated) is None:
        warnings.append(Warning_(V2Codes.ASSOCIATED_WITH_INVALID))
        associated = None
    registered_on = draft.create_date or now
    enrolments, points_expiry = _enrolments(
        draft.enrolments, org, loyalty == "loyalty", registered_on, joining
    )
    extended = _extended(draft.extended_fields, org)
    status_label = _status_label(draft.status_label, org, warnings)
    return ValidV2(
        profiles=profiles,
        cards=cards,
        loyalty_type=CustomerType.LOYALTY if loyalty == "loyalty" else CustomerType.NON_LOYALTY,
        associated_with=associated,
        create_date=draft.create_date,
        extended_fields=extended,
        enrolments=enrolments,
        points_expiry=points_expiry,
        referral_code=None if _empty(draft.referral_code) else (draft.referral_code or "").strip(),
        status_label=status_label,
        warnings=warnings,
        endpoints_enabled=_endpoints(draft),
        activity=None if _empty(draft.activity) else (draft.activity or "").strip(),
    )


def _endpoints(draft: V2Draft) -> list[str] | None:
    if draft.endpoints_enabled is None:
        return None
    parsed = parse_endpoints(draft.endpoints_enabled)
    if isinstance(parsed, str):
        raise _refuse(V2Codes.INPUT_INVALID, parsed)
    return parsed


def _loyalty_type(draft: V2Draft) -> str:
    """`loyaltyType` at the top level (seed 003) or in `loyaltyInfo` (the hosted examples);
    both given and different is refused rather than guessed: one of them would pay rewards."""
    places = (("loyaltyType", draft.top_loyalty_type), ("loyaltyInfo.loyaltyType", draft.loyalty_type))
    given = {where: v.strip().lower() for where, v in places if v is not None and not _empty(v)}
    for where, value in given.items():
        if value not in ("loyalty", "non_loyalty"):
            raise _refuse(V2Codes.INPUT_INVALID, f"{where} must be loyalty or non_loyalty")
    if len(set(given.values())) > 1:
        raise _refuse(V2Codes.INPUT_INVALID, "loyaltyType and loyaltyInfo.loyaltyType disagree")
    return next(iter(given.values()), "loyalty")


def _check_required(profiles: list[ValidProfile], org: OrgConfig) -> None:
    """The org's required identifiers (CONF_USERS_IS_*_REQUIRED), as v1.1 applies them
    (1006/1039/1043 there): v2 has no code of its own for them, so 8005 names the one missing."""
    held = {claim for p in profiles for claim, _ in p.claims}
    for kind in (IdentifierType.MOBILE, IdentifierType.EMAIL, IdentifierType.EXTERNAL_ID):
        if org.configs.requires(kind) and kind.value not in held:
            switch = f"CONF_USERS_IS_{kind.value.upper()}_REQUIRED"
            raise _refuse(V2Codes.NO_VALID_IDENTIFIER, f"this organisation requires {kind.value} ({switch})")


def checked_fields(
    custom: dict[str, Any], extended: dict[str, Any], org: OrgConfig
) -> tuple[dict[str, str], dict[str, str | int], list[Warning_]] | Failure:
    """Custom fields (unknown ones dropped with warning 1017) and extended fields (typed by the
    catalogue; one not enabled or of the wrong type refuses the request), as registration checks them."""
    warnings: list[Warning_] = []
    try:
        return _fields(custom, org, warnings), _extended(extended, org), warnings
    except _Refused as refused:
        return refused.failure


def canonical_claim(item: IdentifierIn, org: OrgConfig) -> tuple[str, str] | Failure | None:
    """(claim type, canonical value) of one identifier as registration reads it; cards by number;
    None for an empty or dropped value."""
    if item.type in CARD_TYPES:
        number = (item.value or "").strip()
        return (CARD_CLAIM, number) if number else None
    try:
        found = _identifier(item, org, [])
    except _Refused as refused:
        return refused.failure
    return None if found is None else (found[0], found[1])


def card_request(item: IdentifierIn, org: OrgConfig) -> CardRequest | Failure:
    """A card to link (series, number or one to generate, status label), as registration reads it."""
    try:
        return _card(item, org)
    except _Refused as refused:
        return refused.failure
