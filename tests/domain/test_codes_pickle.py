"""Codes crossing a process boundary (an import's helper) come back as the table's constants."""

from __future__ import annotations

import pickle

from memberbase.domain.codes import Code, Codes, Kind, V2Codes


def test_an_unpickled_code_is_the_constant_itself() -> None:
    for code in (Codes.CUSTOMER_REGISTERED, Codes.ITEM_INPUT_INVALID, V2Codes.INPUT_INVALID):
        assert pickle.loads(pickle.dumps(code)) is code


def test_a_code_outside_the_table_round_trips_by_value() -> None:
    made = Code(99999, "not in the table", Kind.ERROR)
    back = pickle.loads(pickle.dumps(made))
    assert back == made
    assert back is not made
