"""Control characters: C0 and DEL are refused anywhere in a value, nothing else is."""

from __future__ import annotations

import pytest

from memberbase.domain.text import control_free_json, has_control


@pytest.mark.parametrize("code", [*range(32), 127])
def test_each_control_character_is_found_wherever_it_sits(code: int) -> None:
    ch = chr(code)
    assert has_control(ch)
    assert has_control(f"till{ch}")
    assert has_control(f"{ch}till")
    assert has_control(f"ti{ch}ll")


@pytest.mark.parametrize("value", ["", "plain text", " ~", "\x80\x9f", "Zoë 张伟", "\u2028", "😀"])
def test_printable_and_other_unicode_text_passes(value: str) -> None:
    assert not has_control(value)


def test_json_values_are_checked_in_keys_and_nested_strings() -> None:
    assert control_free_json({"a": ["b", {"c": 1}]})
    assert not control_free_json({"a": ["b", {"c\x00": 1}]})
    assert not control_free_json({"a": ["b\x1f"]})
