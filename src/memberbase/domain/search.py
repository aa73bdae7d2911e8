"""Customer search: what a query asks for and how it pages (`GET /v2/customers/search`).

A query is a prefix of an identifier (mobile, email, external id, card number, any v2
identifier), of a customer's "first last" name or of their last name, compared
lower-cased. The hosted API documents prefix matching and nothing more; the rest (paging,
limits, what a mobile written without its country code finds) is decided here and in
docs/decisions.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from memberbase.domain.org_config import OrgConfig
from memberbase.domain.text import has_control
from memberbase.domain.v2_request import CARD_CLAIM, CLAIM_TYPES

MIN_QUERY = 2  # one character would page through a good part of an org
MAX_QUERY = 300  # the longest identifier stored; a longer prefix cannot match
DEFAULT_LIMIT = 10
MAX_LIMIT = 100  # also what `limit=-1` ("all", in the hosted label search) gets
ALL = -1
MAX_OFFSET = 10_000
# How far past the page the matches are counted: `total` is exact up to this many beyond,
# and a lower bound past that. Each kind of match reads at most the page and this many
# more: at 1,000 a broad prefix ("mar") cost six times what it does at 100 (bench/README.md).
COUNT_BEYOND = 100

_SPACES = re.compile(r"\s+")
# What people type around a phone number; the digits alone are the stored form.
_PHONE = re.compile(r"^\+?[\d\s\-().]+$")
_PHONE_FORMATTING = re.compile(r"[\s\-().+]")

# The stored identifier types by their v2 names (what the lookups call them), names as such.
_FIELD_NAMES = {stored: v2 for v2, stored in CLAIM_TYPES.items()} | {
    CARD_CLAIM: "cardNumber",
    "name": "name",
    "lastName": "lastName",
}


def query_text(raw: str) -> str:
    """The text to look for: trimmed, runs of white space as one space. ValueError: why not."""
    if has_control(raw):
        raise ValueError("q must not contain control characters")
    text = _SPACES.sub(" ", raw).strip()
    if len(text) < MIN_QUERY:
        raise ValueError(f"q needs at least {MIN_QUERY} characters besides white space")
    if len(text) > MAX_QUERY:
        raise ValueError(f"q may have at most {MAX_QUERY} characters")
    return text


def page_size(limit: int) -> int:
    """`limit` as served: -1 and anything above the cap are the cap; 0 or below -1 refused."""
    if limit == ALL or limit > MAX_LIMIT:
        return MAX_LIMIT
    if limit < 1:
        raise ValueError(f"limit is 1 to {MAX_LIMIT}, or {ALL} for the largest page ({MAX_LIMIT})")
    return limit


def mobile_prefixes(text: str, org: OrgConfig) -> tuple[str, ...]:
    """Stored-form mobile prefixes a query also stands for, besides itself.

    Mobiles are stored as country code and number, digits only. A query that looks like a
    phone number also finds them by its digits without the formatting ("+91 98450" finds
    "9198450..."), and, unless it starts with '+', with each of the org's countries' codes
    in front, a leading trunk '0' dropped ("98450" and "098450" find "9198450..." in an
    Indian org).
    """
    if not _PHONE.match(text):
        return ()
    digits = _PHONE_FORMATTING.sub("", text)
    if len(digits) < MIN_QUERY:
        return ()
    found = [digits] if digits != text else []
    if not text.startswith("+"):
        national = digits[1:] if digits.startswith("0") and len(digits) > 1 else digits
        for country in org.mobile_countries:
            code = phonenumbers.country_code_for_region(country)
            if code:
                found.append(f"{code}{national}")
    return tuple(dict.fromkeys(p for p in found if p != text))


def field_name(stored: str) -> str:
    """The v2 name of a matched field: an identifier type ("externalId", "cardNumber", ...),
    "name" for "first last", "lastName"."""
    return _FIELD_NAMES.get(stored, stored)


@dataclass(frozen=True)
class SearchQuery:
    text: str
    mobiles: tuple[str, ...]
    offset: int
    limit: int

    @property
    def window(self) -> int:
        """How many matches each kind of match reads at most: the page, and COUNT_BEYOND more."""
        return self.offset + self.limit + COUNT_BEYOND


def search_query(text: str, offset: int, limit: int, org: OrgConfig) -> SearchQuery:
    """`text`, `offset` and `limit` as the wire model left them (see query_text, page_size)."""
    return SearchQuery(text, mobile_prefixes(text, org), offset, limit)


@dataclass(frozen=True)
class SearchHit:
    customer_id: int
    firstname: str
    lastname: str
    mobile: str | None
    email: str | None
    external_id: str | None
    matched_field: str  # stored form: an identifier type, "name" or "lastName"
    matched_value: str
    type: str
    status_label: str | None
    tier_serial: int | None  # in the org's default programme, when enrolled in it


@dataclass(frozen=True)
class SearchPage:
    total: int
    total_exact: bool  # False: at least `total` customers match
    hits: list[SearchHit]
