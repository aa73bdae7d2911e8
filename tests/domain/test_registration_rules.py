"""The v1.1 decision table, without a database."""

from __future__ import annotations

import datetime as dt

from memberbase.domain.codes import Codes
from memberbase.domain.customer import CustomerRecord, CustomerType, Failure, ValidDraft
from memberbase.domain.org_config import IdentifierType, OrgConfig
from memberbase.domain.registration import Create, Update, decide

M, E, X = IdentifierType.MOBILE, IdentifierType.EMAIL, IdentifierType.EXTERNAL_ID
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def org(**configs: object) -> OrgConfig:
    return OrgConfig.model_validate({"id": 1, "name": "t", "base_country": "IN", "configs": configs})


def draft(**ids: str) -> ValidDraft:
    return ValidDraft(
        identifiers={IdentifierType(k): v for k, v in ids.items()},
        firstname=None,
        lastname=None,
        type=None,
        source="INSTORE",
        account_id="",
        registered_on=None,
        updated_on=None,
        registered_till="t",
        associated_with=None,
        fraud_status=None,
        comm_channels=None,
        custom_fields={},
        extended_fields={},
    )


def customer(cid: int, **ids: str) -> CustomerRecord:
    return CustomerRecord(
        id=cid,
        firstname="",
        lastname="",
        mobile=ids.get("mobile"),
        email=ids.get("email"),
        external_id=ids.get("external_id"),
        type=CustomerType.LOYALTY,
        source="INSTORE",
        account_id="",
        fraud_status="NONE",
        registered_on=NOW,
        updated_on=NOW,
        registered_till="t",
        associated_with=None,
        comm_channels=[],
        custom_fields={},
        extended_fields={},
    )


def test_nothing_known_creates() -> None:
    assert isinstance(decide(draft(mobile="1"), {}, org()), Create)


def test_one_owner_updates_and_fills_missing_identifiers() -> None:
    a = customer(1, mobile="1")
    result = decide(draft(mobile="1", email="e"), {M: a}, org())
    assert isinstance(result, Update)
    assert result.set_identifiers == {E: "e"}


def test_changing_an_identifier_needs_its_switch() -> None:
    a = customer(1, mobile="1", email="old")
    refused = decide(draft(mobile="1", email="new"), {M: a}, org())
    assert isinstance(refused, Update)
    assert refused.set_identifiers == {}
    assert [w.code for w in refused.warnings] == [Codes.IDENTIFIER_UPDATE_NOT_ALLOWED]
    assert refused.warnings[0].message == "Email update is not allowed"
    allowed = decide(draft(mobile="1", email="new"), {M: a}, org(CONF_ALLOW_EMAIL_UPDATE=True))
    assert isinstance(allowed, Update)
    assert allowed.set_identifiers == {E: "new"}


def test_two_owners_strict_fails_skip_wins_default_updates_primary_owner() -> None:
    a, b = customer(1, mobile="1", email="a"), customer(2, mobile="2", email="b")
    owners = {M: a, E: b}
    strict = decide(draft(mobile="1", email="b"), owners, org(CONF_PRIMARY_IDENTIFIER_STRICT_CHECK=True))
    assert isinstance(strict, Failure)
    assert strict.code is Codes.PRIMARY_MISMATCH
    for cfg in (
        org(),
        org(CONFIG_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH=True, CONF_PRIMARY_IDENTIFIER_STRICT_CHECK=True),
    ):
        result = decide(draft(mobile="1", email="b"), owners, cfg)
        assert isinstance(result, Update)
        assert result.customer.id == 1
        assert [w.code for w in result.warnings] == [Codes.IDENTIFIER_TAKEN]


def test_new_primary_with_known_secondary() -> None:
    a = customer(1, mobile="1", email="a")
    owners = {E: a}
    skip = decide(
        draft(mobile="9", email="a"), owners, org(CONFIG_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH=True)
    )
    assert isinstance(skip, Create)
    assert skip.identifiers == {M: "9"}
    strict = decide(draft(mobile="9", email="a"), owners, org(CONF_PRIMARY_IDENTIFIER_STRICT_CHECK=True))
    assert isinstance(strict, Failure)
    default = decide(draft(mobile="9", email="a"), owners, org())
    assert isinstance(default, Update)
    assert default.warnings[0].code is Codes.IDENTIFIER_UPDATE_NOT_ALLOWED  # primary change refused


def test_primary_missing_on_the_found_customer_is_filled_even_under_strict_check() -> None:
    a = customer(1, external_id="x")
    result = decide(
        draft(mobile="9", external_id="x"), {X: a}, org(CONF_PRIMARY_IDENTIFIER_STRICT_CHECK=True)
    )
    assert isinstance(result, Update)
    assert result.set_identifiers == {M: "9"}
