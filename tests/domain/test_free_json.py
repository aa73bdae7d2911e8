"""Limits on stored free-form JSON: type, size, depth, count, numbers."""

from __future__ import annotations

import pytest

from memberbase.domain.free_json import MAX_NUMBER, free_json_problem


@pytest.mark.parametrize(
    "value",
    [
        [{"type": "mobile", "value": "919444400003", "meta": {"lastViewedDate": "", "n": 3, "x": 1.5}}],
        [{"value": MAX_NUMBER}, {"value": -MAX_NUMBER}, {"value": None}, {"value": True}],
        {"a": {"b": {"c": {"d": 1}}}},
    ],
)
def test_what_a_till_sends_fits(value: object) -> None:
    assert free_json_problem(value, "commChannels") is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ([{"value": 1e20}], "within"),
        ([{"value": 1e308}], "within"),
        ([{"meta": {"x": 1.5e300}}], "within"),
        ([{"value": 10**20}], "within"),
        ([{"value": float("nan")}], "finite"),
        ([{"value": float("inf")}], "finite"),
        ([{"value": "x" * 900_000}], "longer than"),
        ([{"type": "mobile"}] * 30_000, "more than"),
        ({"k" * 101: 1}, "key longer"),
        ({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, "deeper"),
    ],
)
def test_what_no_store_keeps_well_is_refused(value: object, words: str) -> None:
    problem = free_json_problem(value, "commChannels")
    assert problem is not None
    assert words in problem
    assert problem.startswith("commChannels")
