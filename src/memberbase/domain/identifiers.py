"""Normalising and validating the identifiers a customer is known by.

Every identifier is stored and compared in one canonical form, so the same
shopper typed three ways at three tills is one customer:
- mobile: country code + national number, digits only (`phonenumbers` decides
  validity against the org's base and supported countries);
- email: lower-cased (emails compare case-insensitively);
- external id, and every other id a v2 source names (WeChat, LINE, …), and card numbers:
  Unicode NFKC, without surrounding white space (`canonical_id`). The same text typed in
  another normal form (`café` composed or decomposed) or width (full-width letters) is
  the same id; an id holding an invisible or control character (a zero-width space, a
  direction mark, a C1 control) is refused, since no till operator can see what they type.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from memberbase.domain.org_config import OrgConfig

MOBILE_MAX_DIGITS = 20
EXTERNAL_ID_MAX_LENGTH = 250

# Formatting people type around a number; anything else (letters, '*') makes it invalid.
_MOBILE_FORMATTING = re.compile(r"[\s\-().]")
# The documented character set: a-z A-Z 0-9 - _ + . and @, with a letters-only TLD.
_EMAIL_CHARS = re.compile(r"^[A-Za-z0-9_+.\-]+@[A-Za-z0-9_.\-]+\.[A-Za-z]+$")
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


# Characters that show nothing: Unicode's Default_Ignorable_Code_Point ranges (zero-width
# spaces and joiners, direction marks, variation selectors, fillers, tags), beside the
# control, format, surrogate, private-use and unassigned categories and the line and
# paragraph separators, found by category.
_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ASCII_CONTROL = re.compile("[\x00-\x1f\x7f]")


def invisible_character(text: str) -> str | None:
    """The first invisible or control character of `text`, named (`U+200B ZERO WIDTH SPACE`)."""
    if text.isascii():
        found = _ASCII_CONTROL.search(text)
        return None if found is None else _named(found.group())
    for ch in text:
        point = ord(ch)
        if unicodedata.category(ch) in _INVISIBLE_CATEGORIES or any(a <= point <= b for a, b in _IGNORABLE):
            return _named(ch)
    return None


def _named(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character')}"


@dataclass(frozen=True)
class IdResult:
    canonical: str | None  # None: refused
    invisible: str | None = None  # the character it was refused for

    @property
    def problem(self) -> str | None:
        return (
            None
            if self.invisible is None
            else f"contains an invisible or control character ({self.invisible})"
        )


def canonical_id(raw: str) -> IdResult:
    """An external id, source id or card number in its one stored form: NFKC, without
    surrounding white space; refused when it holds an invisible or control character.
    Idempotent: a canonical id is its own canonical form."""
    text = (raw if raw.isascii() else unicodedata.normalize("NFKC", raw)).strip()
    invisible = invisible_character(text)
    return IdResult(None, invisible) if invisible is not None else IdResult(text)


def id_to_look_up(raw: str) -> str | None:
    """The id a lookup asks for: its canonical form (None: it holds an invisible character,
    or is blank, so nobody holds it)."""
    return canonical_id(raw).canonical or None


def id_to_retry(asked: str, tried: str) -> str | None:
    """After a lookup of the canonical `tried` found nobody: `asked` as written (stripped), when
    it differs, so an id stored before ids were canonical is still found by its exact form."""
    exact = asked.strip()
    return exact if exact != tried and exact and invisible_character(exact) is None else None


class MobileProblem(Enum):
    INVALID = "invalid"
    NO_BASE_COUNTRY = "no_base_country"
    # A valid national number sent without its country code while the org's
    # CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED is off (the seeds' own "8795779625"): still
    # refused, but the answer can say what to do.
    NO_COUNTRY_CODE = "no_country_code"


COUNTRY_CODE_HINT = (
    "send the mobile with its country code, or switch on CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED"
    " for the organisation to prefix its own"
)


@dataclass(frozen=True)
class MobileResult:
    canonical: str | None
    problem: MobileProblem | None = None


def _valid_in(number: phonenumbers.PhoneNumber, countries: tuple[str, ...]) -> bool:
    # A mobile number type is only found for a valid number of its region, so this is
    # is_valid_number without matching the national patterns twice (every lookup pays it).
    return (
        phonenumbers.region_code_for_number(number) in countries
        and phonenumbers.number_type(number) in _MOBILE_TYPES
    )


def _canonical(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def normalise_mobile(raw: str, org: OrgConfig) -> MobileResult:
    """Canonical mobile for `org`, or why it cannot be one."""
    text = _MOBILE_FORMATTING.sub("", raw)
    explicit_plus = text.startswith("+")
    digits = text[1:] if explicit_plus else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > MOBILE_MAX_DIGITS:
        return MobileResult(None, MobileProblem.INVALID)
    countries = org.mobile_countries
    if not countries:
        return MobileResult(None, MobileProblem.NO_BASE_COUNTRY)
    try:
        international = phonenumbers.parse("+" + digits, None)
        if _valid_in(international, countries):
            return MobileResult(_canonical(international))
    except phonenumbers.NumberParseException:
        pass
    national = None if explicit_plus else _national(digits, countries)
    if national is None:
        return MobileResult(None, MobileProblem.INVALID)
    if org.configs.default_country_code_passed:
        return MobileResult(national)
    return MobileResult(None, MobileProblem.NO_COUNTRY_CODE)


def _national(digits: str, countries: tuple[str, ...]) -> str | None:
    """The canonical number `digits` are as a national number of the org's countries: base
    country first, then the supported ones, as the hosted switch tries them."""
    for country in countries:
        try:
            national = phonenumbers.parse(digits, country)
        except phonenumbers.NumberParseException:
            continue
        if _valid_in(national, countries):
            return _canonical(national)
    return None


def as_stored_mobile(raw: str) -> str | None:
    """`raw` when it is written the way mobiles are stored (digits only), else None.

    A lookup tries such a value as it is before normalising it: a stored mobile is the
    canonical form of a valid number, which normalises to itself, so a customer holding
    exactly these digits is the one the normalised value finds too, and normalising
    (about 40 µs, a tenth of a lookup) is only needed when nobody does.
    """
    text = raw.strip()
    return text if text.isascii() and text.isdigit() and len(text) <= MOBILE_MAX_DIGITS else None


def mobile_to_look_up(raw: str, org: OrgConfig) -> str | None:
    """The mobile a lookup tries first: as written when stored-form, else normalised (None:
    no valid mobile, so nobody holds it)."""
    return as_stored_mobile(raw) or normalise_mobile(raw, org).canonical


def mobile_to_retry(asked: str, tried: str, org: OrgConfig) -> str | None:
    """After a lookup of `tried` found nobody: the mobile to look up next, if any. Only when
    `tried` was `asked` as written (see `as_stored_mobile`) and normalising changes it: a
    national number, written without its country code, say."""
    if tried != as_stored_mobile(asked):
        return None
    canonical = normalise_mobile(tried, org).canonical
    return canonical if canonical is not None and canonical != tried else None


# Plain addresses (ASCII, ordinary local part, letters-only top-level domain, no IDNA or
# reserved names) are ones email-validator accepts; they skip its ~100 µs of checks,
# which imports of millions of customers would otherwise pay per row.
_PLAIN_EMAIL = re.compile(
    r"^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def _plainly_valid(text: str) -> bool:
    if not _PLAIN_EMAIL.match(text) or "--" in text.partition("@")[2]:
        return False
    local, _, domain = text.partition("@")
    return len(local) <= 64 and domain.rsplit(".", 1)[1].lower() not in _SPECIAL_USE_TLDS


def normalise_email(raw: str, max_length: int) -> str | None:
    """Lower-cased email, or None when it breaks the documented rules."""
    text = raw.strip()
    if not text or len(text) > max_length or not _EMAIL_CHARS.match(text):
        return None
    if _plainly_valid(text):
        return text.lower()
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None
    return text.lower()


def external_id_fits(value: str, org: OrgConfig) -> bool:
    """True when `value` meets the absolute limit and the org's configured length range."""
    if len(value) > EXTERNAL_ID_MAX_LENGTH:
        return False
    cfg = org.configs
    if cfg.external_id_max_length == 0:  # 0 means: no length check configured
        return True
    return cfg.external_id_min_length <= len(value) <= cfg.external_id_max_length


def value_to_retry(kind: str, asked: str, tried: str, org: OrgConfig) -> str | None:
    """After a lookup of `tried` (the value of identifier `kind` the lookup asked for first)
    found nobody: the value to look up next, if any (see mobile_to_retry and id_to_retry)."""
    if kind == "mobile":
        return mobile_to_retry(asked, tried, org)
    return None if kind == "email" else id_to_retry(asked, tried)
