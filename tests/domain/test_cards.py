"""Card series: numbering, the Luhn check digit, status labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from memberbase.domain.cards import CardSeries, luhn_check_digit, luhn_valid


def test_luhn_matches_the_textbook_example() -> None:
    assert luhn_check_digit("7992739871") == 3
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398714")


@given(st.integers(min_value=0, max_value=10**7 - 1))
def test_every_generated_number_fits_its_series(sequence: int) -> None:
    series = CardSeries(id=1, code="G", number_length=10, prefix="77", generate=True)
    number = series.generated(sequence)
    assert len(number) == 10
    assert number.startswith("77")
    assert series.accepts(number)


def test_a_series_runs_out_clearly() -> None:
    series = CardSeries(id=1, code="G", number_length=4, prefix="7", generate=True)
    with pytest.raises(OverflowError):
        series.generated(100)


def test_status_labels_match_case_insensitively() -> None:
    """No default: seed 003 requires a card's statusLabel (v2_validation refuses a card without)."""
    series = CardSeries(id=1, code="S", number_length=8, status_labels=("ACTIVE", "INACTIVE"))
    assert series.label("inactive") == "INACTIVE"
    assert series.label("STOLEN") is None


def test_a_prefix_that_leaves_no_room_is_refused() -> None:
    with pytest.raises(ValidationError, match="no room"):
        CardSeries(id=1, code="S", number_length=5, prefix="1234")
