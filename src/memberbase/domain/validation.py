"""Checking a v1.1 customer item against the documented limits and the org's switches.

Pure: the clock is passed in. The order of checks follows what a till operator
needs to fix first: identifiers (without them nothing can be stored), then the
org's required identifiers, then the rest.
"""

from __future__ import annotations

import datetime as dt

from memberbase.domain.codes import Codes
from memberbase.domain.customer import (
    FRAUD_STATUSES,
    CustomerDraft,
    CustomerType,
    Failure,
    ValidDraft,
    Warning_,
)
from memberbase.domain.extended_fields import CATALOGUE, ExtendedFieldError, parse_value
from memberbase.domain.identifiers import (
    COUNTRY_CODE_HINT,
    MobileProblem,
    canonical_id,
    external_id_fits,
    normalise_email,
    normalise_mobile,
)
from memberbase.domain.org_config import CustomFieldDef, IdentifierType, OrgConfig
from memberbase.domain.sources import account_of, canonical_source

V11_NAME_MAX = 50
V11_EMAIL_MAX = 100
TILL_MAX = 50

_REQUIRED_CODES = {
    IdentifierType.MOBILE: Codes.MOBILE_REQUIRED,
    IdentifierType.EMAIL: Codes.EMAIL_REQUIRED,
    IdentifierType.EXTERNAL_ID: Codes.EXTERNAL_ID_REQUIRED,
}


def _blank(value: str | None) -> bool:
    return value is None or value.strip() == ""


NAME_CHARACTERS = "letters, digits, spaces, hyphens, apostrophes and underscores"


def name_is_valid(value: str, max_length: int) -> bool:
    """Letters (any script), digits, spaces, hyphens and apostrophes (seeds 000 and 002), and
    underscores: the seeds' own v2 samples register "Customer_add_1"."""
    return len(value) <= max_length and all(ch.isalnum() or ch in " -'_" for ch in value)


def _identifiers(
    draft: CustomerDraft, org: OrgConfig, *, update: bool = False
) -> dict[IdentifierType, str] | Failure:
    found: dict[IdentifierType, str] = {}
    if not _blank(draft.mobile):
        assert draft.mobile is not None
        result = normalise_mobile(draft.mobile, org)
        if result.problem is MobileProblem.NO_BASE_COUNTRY:
            return Failure(Codes.BASE_COUNTRY_NOT_CONFIGURED, "the organisation has no base country")
        if result.canonical is None:
            hint = COUNTRY_CODE_HINT if result.problem is MobileProblem.NO_COUNTRY_CODE else None
            return Failure(Codes.INVALID_MOBILE, hint)
        found[IdentifierType.MOBILE] = result.canonical
    if not _blank(draft.email):
        assert draft.email is not None
        email = normalise_email(draft.email, V11_EMAIL_MAX)
        if email is None:
            return Failure(Codes.INVALID_EMAIL)
        found[IdentifierType.EMAIL] = email
    if not _blank(draft.external_id):
        assert draft.external_id is not None
        external_id = canonical_id(draft.external_id)
        if external_id.canonical is None:
            return Failure(Codes.INVALID_EXTERNAL_ID, external_id.problem)
        if not external_id_fits(external_id.canonical, org):
            return Failure(Codes.INVALID_EXTERNAL_ID)
        found[IdentifierType.EXTERNAL_ID] = external_id.canonical
    if update:
        # An update names its customer by one identifier (or by id); the org's required
        # identifiers are a registration rule.
        return found
    if not found:
        return Failure(Codes.NO_VALID_IDENTIFIER)
    for kind, code in _REQUIRED_CODES.items():
        if org.configs.requires(kind) and kind not in found:
            return Failure(code)
    return found


def _to_utc(local: dt.datetime | None, org: OrgConfig) -> dt.datetime | None:
    if local is None:
        return None
    return local.replace(tzinfo=org.zone).astimezone(dt.UTC)


def _tills(draft: CustomerDraft, org: OrgConfig, caller_till: str) -> tuple[str, str | None] | Failure:
    registered = caller_till if _blank(draft.registered_till) else draft.registered_till
    associated = None if _blank(draft.associated_with) else draft.associated_with
    assert registered is not None
    for name, value in (("registered_till", registered), ("associated_with", associated)):
        if value is None:
            continue
        if len(value) > TILL_MAX:
            return Failure(Codes.ITEM_INPUT_INVALID, f"{name} is longer than {TILL_MAX} characters")
        if org.till(value) is None:
            return Failure(Codes.UNKNOWN_TILL, f"{name} {value!r} is not a till of this organisation")
    return registered, associated


def _names(draft: CustomerDraft) -> Failure | None:
    for name, value in (("firstname", draft.firstname), ("lastname", draft.lastname)):
        if value is not None and not name_is_valid(value, V11_NAME_MAX):
            return Failure(
                Codes.ITEM_INPUT_INVALID,
                f"{name} allows at most {V11_NAME_MAX} {NAME_CHARACTERS}",
            )
    return None


def check_custom_field(org: OrgConfig, name: str, text: str) -> CustomFieldDef | str:
    """The org's field `name` holds `text`; else why the value is dropped (1017), naming the field."""
    definition = org.custom_field(name)
    if definition is None:
        return f"{name} is not a custom field of this organisation"
    if len(text) > definition.max_length:
        return f"{name} is longer than {definition.max_length} characters"
    return definition


def _fields(
    draft: CustomerDraft, org: OrgConfig
) -> tuple[dict[str, str], dict[str, str | int], list[Warning_]]:
    # One warning per code, as the hosted API sends; its detail names every field it dropped.
    custom: dict[str, str] = {}
    dropped: list[str] = []
    for name, value in draft.custom_fields:
        checked = check_custom_field(org, name, value)
        if isinstance(checked, str):
            dropped.append(checked)
        else:
            custom[checked.name] = value
    extended: dict[str, str | int] = {}
    refused: list[str] = []
    for name, raw in draft.extended_fields:
        catalogued = CATALOGUE.get(name) if name in org.extended_fields else None
        if catalogued is None:
            refused.append(f"{name} is not an extended field of this organisation")
            continue
        try:
            extended[name] = parse_value(catalogued, raw)
        except ExtendedFieldError as exc:
            refused.append(str(exc))
    warnings = [
        Warning_(code, detail="; ".join(problems))
        for code, problems in ((Codes.CUSTOM_FIELD_INVALID, dropped), (Codes.EXTENDED_FIELD_INVALID, refused))
        if problems
    ]
    return custom, extended, warnings


def validate_draft(
    draft: CustomerDraft, org: OrgConfig, caller_till: str, now: dt.datetime, *, update: bool = False
) -> ValidDraft | Failure:
    """The draft with canonical values, or the first rule it breaks.

    `update`: the item of a v1.1 customer/update, whose identifiers only name the customer
    (or fill one it lacks), so none is required.
    """
    identifiers = _identifiers(draft, org, update=update)
    if isinstance(identifiers, Failure):
        return identifiers
    problem = _names(draft)
    if problem is not None:
        return problem
    tills = _tills(draft, org, caller_till)
    if isinstance(tills, Failure):
        return tills
    customer_type: CustomerType | None = None
    if not _blank(draft.type):
        assert draft.type is not None
        try:
            customer_type = CustomerType(draft.type.strip().upper())
        except ValueError:
            return Failure(Codes.ITEM_INPUT_INVALID, "type must be LOYALTY or NON_LOYALTY")
    source = "INSTORE" if _blank(draft.source) else canonical_source(draft.source)  # type: ignore[arg-type]
    account_id = account_of(source, draft.account_id)
    problem_with_source = org.source_problem(source, account_id)
    if problem_with_source is not None:
        return Failure(Codes.SOURCE_INVALID, problem_with_source)
    fraud_status: str | None = None
    if not _blank(draft.fraud_status):
        assert draft.fraud_status is not None
        fraud_status = draft.fraud_status.strip().upper()
        if fraud_status not in FRAUD_STATUSES:
            return Failure(
                Codes.ITEM_INPUT_INVALID, f"fraud_status must be one of {', '.join(FRAUD_STATUSES)}"
            )
    if draft.referral_code is not None and len(draft.referral_code.strip()) > REFERRAL_CODE_MAX:
        return Failure(Codes.ITEM_INPUT_INVALID, f"referral_code is over {REFERRAL_CODE_MAX} characters")
    registered_on = _to_utc(draft.registered_on, org)
    if registered_on is not None and _registration_date_refused(registered_on, org, now):
        return Failure(Codes.REGISTRATION_DATE_NOT_ALLOWED)
    custom, extended, warnings = _fields(draft, org)
    return ValidDraft(
        identifiers=identifiers,
        firstname=None if draft.firstname is None else draft.firstname.strip(),
        lastname=None if draft.lastname is None else draft.lastname.strip(),
        type=customer_type,
        source=source,
        account_id=account_id,
        registered_on=registered_on,
        updated_on=_to_utc(draft.updated_on, org),
        registered_till=tills[0],
        associated_with=tills[1],
        fraud_status=fraud_status,
        comm_channels=draft.comm_channels,
        custom_fields=custom,
        extended_fields=extended,
        warnings=warnings,
        referral_code=(draft.referral_code or "").strip() or None,
        customer_id=draft.customer_id,
        till_sent=not _blank(draft.registered_till),
        opt_ins=draft.opt_ins,
    )


REFERRAL_CODE_MAX = 100  # as v2's referralCode

# A till clock a little ahead of ours is normal; a registration days in the future is not.
FUTURE_TOLERANCE = dt.timedelta(days=1)


def _registration_date_refused(registered_on: dt.datetime, org: OrgConfig, now: dt.datetime) -> bool:
    if registered_on > now + FUTURE_TOLERANCE:
        return True
    limit = org.configs.min_registration_date
    return limit is not None and registered_on.astimezone(org.zone).date() < limit
