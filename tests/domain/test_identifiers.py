"""Identifier normalising: one canonical form per shopper, whatever the till typed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memberbase.domain.identifiers import (
    MobileProblem,
    as_stored_mobile,
    external_id_fits,
    mobile_to_look_up,
    mobile_to_retry,
    normalise_email,
    normalise_mobile,
)
from memberbase.domain.org_config import OrgConfig

ORG = OrgConfig.model_validate({"id": 1, "name": "t", "base_country": "IN", "supported_countries": ["SG"]})
PREFIXING = OrgConfig.model_validate(
    {
        "id": 1,
        "name": "t",
        "base_country": "IN",
        "supported_countries": ["SG"],
        "configs": {"CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED": True},
    }
)
NO_COUNTRY = OrgConfig.model_validate({"id": 1, "name": "t"})


def test_mobile_canonical_form_is_country_code_and_national_number() -> None:
    assert normalise_mobile("+91 98765 32218", ORG).canonical == "919876532218"
    assert normalise_mobile("919876532218", ORG).canonical == "919876532218"
    assert normalise_mobile("(+65) 9123-4567", ORG).canonical == "6591234567"


def test_mobile_of_a_country_the_org_does_not_serve_is_invalid() -> None:
    assert normalise_mobile("447911123456", ORG).problem is MobileProblem.INVALID


def test_mobile_without_a_base_country_cannot_be_validated() -> None:
    assert normalise_mobile("919876532218", NO_COUNTRY).problem is MobileProblem.NO_BASE_COUNTRY


def test_national_numbers_get_the_base_then_supported_country_code_when_configured() -> None:
    assert normalise_mobile("9876532218", ORG).canonical is None
    assert normalise_mobile("9876532218", PREFIXING).canonical == "919876532218"
    assert normalise_mobile("91234567", PREFIXING).canonical == "6591234567"
    # An explicit + means the country code was given: never prefix one.
    assert normalise_mobile("+9876532218", PREFIXING).canonical is None


def test_landline_numbers_are_not_mobiles() -> None:
    assert normalise_mobile("911123456789", ORG).canonical is None  # Delhi landline


@given(
    national=st.from_regex(r"9[0-9]{9}", fullmatch=True),
    separators=st.lists(st.sampled_from([" ", "-", ""]), min_size=10, max_size=10),
)
def test_formatting_never_changes_which_customer_a_mobile_is(national: str, separators: list[str]) -> None:
    plain = normalise_mobile("91" + national, ORG).canonical
    spaced = "+91 " + "".join(d + s for d, s in zip(national, separators, strict=True))
    assert normalise_mobile(spaced, ORG).canonical == plain


@given(st.text(min_size=1, max_size=30))
def test_mobile_normalising_never_raises_and_outputs_only_digits(raw: str) -> None:
    result = normalise_mobile(raw, PREFIXING)
    assert (result.canonical is None) != (result.problem is None)
    if result.canonical is not None:
        assert result.canonical.isdigit()
        assert len(result.canonical) <= 20


def test_email_is_lower_cased_and_checked_against_the_documented_characters() -> None:
    assert normalise_email("Tom.Sawyer+x@Example.COM", 100) == "tom.sawyer+x@example.com"
    assert normalise_email("tom#1@example.com", 100) is None
    assert normalise_email("tom@example.c0m", 100) is None
    assert normalise_email("a" * 95 + "@x.com", 100) is None


@given(st.emails())
def test_accepted_emails_are_idempotent(email: str) -> None:
    once = normalise_email(email, 255)
    if once is not None:
        assert normalise_email(once, 255) == once


def test_external_id_length_rules() -> None:
    ranged = OrgConfig.model_validate(
        {
            "id": 1,
            "name": "t",
            "configs": {"CONF_CLIENT_EXTERNAL_ID_MIN_LENGTH": 8, "CONF_CLIENT_EXTERNAL_ID_MAX_LENGTH": 12},
        }
    )
    assert not external_id_fits("ABC123", ranged)
    assert external_id_fits("ABC12345", ranged)
    assert not external_id_fits("ABC1234567890", ranged)
    assert external_id_fits("A", ORG)  # max 0 means no check
    assert not external_id_fits("A" * 251, ORG)


@pytest.mark.parametrize(
    "address",
    [
        "a@example.com",
        "Tom.Sawyer+loyalty@Example.CO.IN",
        "x_y%z@sub-domain.example.org",
        "a@x.test",
        "a@mail.local",
        "a@localhost",
        "a..b@x.com",
        "a@x-.com",
        "a@-x.com",
        "a@x.com.",
        "a@xn--80ak6aa92e.com",
        "a@ab--cd.com",
        "a@123.456",
        "." + "a" * 70 + "@x.com",
        "a" * 65 + "@x.com",
        "a@" + "b" * 64 + ".com",
    ],
)
def test_the_email_shortcut_agrees_with_email_validator(address: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    from memberbase.domain.identifiers import _plainly_valid

    try:
        validate_email(address, check_deliverability=False)
        library = True
    except EmailNotValidError:
        library = False
    if _plainly_valid(address):
        assert library, address  # the shortcut only ever accepts what the library accepts
    from memberbase.domain.identifiers import _EMAIL_CHARS

    documented = library and _EMAIL_CHARS.match(address) is not None  # the rule before the shortcut
    assert (normalise_email(address, 255) is not None) == documented


@given(st.emails())
def test_the_email_shortcut_never_accepts_what_the_library_refuses(address: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    from memberbase.domain.identifiers import _plainly_valid

    if _plainly_valid(address):
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:  # pragma: no cover - the failure message
            raise AssertionError(f"{address}: {exc}") from exc


def test_lookups_try_digits_as_written_then_the_normalised_number() -> None:
    assert as_stored_mobile(" 919876532218 ") == "919876532218"
    assert as_stored_mobile("+919876532218") is None  # formatted: normalised first
    assert as_stored_mobile("98765 32218") is None
    assert mobile_to_look_up(" 9876532218 ", PREFIXING) == "9876532218"  # as written first
    assert mobile_to_look_up("+91 98765 32218", PREFIXING) == "919876532218"  # else normalised
    assert mobile_to_look_up("+91 12", PREFIXING) is None  # no valid mobile: nobody holds it
    # After a miss on the digits as written: their normalised form, if it differs.
    assert mobile_to_retry("9876532218", "9876532218", PREFIXING) == "919876532218"
    assert mobile_to_retry("919876532218", "919876532218", PREFIXING) is None  # already canonical
    assert mobile_to_retry("9876532218", "9876532218", ORG) is None  # no prefixing: invalid
    assert mobile_to_retry("+91 98765 32218", "919876532218", PREFIXING) is None  # was normalised
