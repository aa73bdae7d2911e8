"""The generated external id format (seed 000 line 548; hosted notes' card-number keys)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from memberbase.domain.external_ids import generated_external_id
from memberbase.domain.org_config import RegistrationConfig


def configs(**keys: object) -> RegistrationConfig:
    return RegistrationConfig.model_validate({"CONF_GEN_CARD_NUMBER_AS_EXTERNAL_ID_ENABLED": True, **keys})


def test_prefix_sequence_and_luhn_digit_fill_the_length() -> None:
    c = configs(CONF_CARD_NUMBER_PREFIX="12", CONF_CARD_NUMBER_LENGTH=8)
    assert generated_external_id(c, 1) == "12000014"  # 1200001 and its Luhn check digit, 4
    assert generated_external_id(c, 99_999) is not None
    assert generated_external_id(c, 100_000) is None  # no room left: the caller refuses


def test_auto_inc_has_no_check_digit() -> None:
    assert generated_external_id(configs(CONF_CARD_CHECKSUM_DIGIT_ALGO="AUTO_INC"), 42) == "000000000042"


@pytest.mark.parametrize(
    "keys",
    [
        {"CONF_CARD_NUMBER_PREFIX": "123456", "CONF_CARD_NUMBER_LENGTH": 7},
        {"CONF_CARD_NUMBER_PREFIX": "AB"},
        {"CONF_CARD_CHECKSUM_DIGIT_ALGO": "MOD7_ALGO"},
        {"CONF_CLIENT_EXTERNAL_ID_MAX_LENGTH": 8},
    ],
)
def test_formats_that_cannot_work_are_refused_at_load(keys: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        configs(**keys)
