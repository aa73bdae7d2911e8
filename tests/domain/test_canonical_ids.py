"""External ids, source ids and card numbers: NFKC, and refused when they hold what nobody sees."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memberbase.domain.identifiers import canonical_id, id_to_look_up, id_to_retry, invisible_character

CAFE_NFC = "ext-caf\u00e9"
CAFE_NFD = "ext-cafe\u0301"


def test_both_normal_forms_of_one_id_are_one_id() -> None:
    assert CAFE_NFC != CAFE_NFD
    assert canonical_id(CAFE_NFC).canonical == canonical_id(CAFE_NFD).canonical == CAFE_NFC


def test_full_width_and_compatibility_forms_are_their_plain_letters() -> None:
    assert canonical_id("\uff25\uff38\uff34\uff0d\uff11\uff12\uff13").canonical == "EXT-123"  # full width
    assert canonical_id("\u3000wx\u2460\u00a0").canonical == "wx1"  # ideographic space, circled one


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("ext\u200b1", "U+200B ZERO WIDTH SPACE"),
        ("\ufeffext1", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("ext\u200e1", "U+200E LEFT-TO-RIGHT MARK"),
        ("ext\u00851", "U+0085 control character"),  # C1 control (NEL)
        ("ext\x001", "U+0000 control character"),
        ("ext\u20281", "U+2028 LINE SEPARATOR"),
        ("ext\ufe0f1", "U+FE0F VARIATION SELECTOR-16"),
        ("ext\u31641", "U+1160 HANGUL JUNGSEONG FILLER"),  # the Hangul filler, after NFKC
        ("ext\ue0001", "U+E000 control character"),  # private use
    ],
)
def test_invisible_and_control_characters_are_refused_by_name(raw: str, named: str) -> None:
    result = canonical_id(raw)
    assert result.canonical is None
    assert result.invisible == named
    assert result.problem == f"contains an invisible or control character ({named})"
    assert id_to_look_up(raw) is None


def test_plain_text_passes_unchanged_but_for_surrounding_space() -> None:
    assert canonical_id("  EXT 42 ").canonical == "EXT 42"
    assert canonical_id("\u0645\u062d\u0645\u062f-7").canonical == "\u0645\u062d\u0645\u062f-7"  # Arabic
    assert canonical_id("\u0928\u092e\u0938\u094d\u0924\u0947").canonical is not None  # a virama (Mn)


def test_a_lookup_retries_the_exact_form_of_an_id_stored_before_ids_were_canonical() -> None:
    assert id_to_retry(" \uff21\uff22 ", "AB") == "\uff21\uff22"
    assert id_to_retry("AB", "AB") is None
    assert id_to_retry("a\u200bb", "ab") is None


@given(st.text(max_size=40))
def test_the_canonical_form_is_its_own_canonical_form(raw: str) -> None:
    first = canonical_id(raw).canonical
    if first is not None:
        assert canonical_id(first).canonical == first
        assert unicodedata.is_normalized("NFKC", first)
        assert invisible_character(first) is None
        assert first == first.strip()


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_ascii_takes_the_short_way_to_the_same_answer(raw: str) -> None:
    normalised = unicodedata.normalize("NFKC", raw).strip()
    expected = None if any(ord(c) < 32 or ord(c) == 127 for c in normalised) else normalised
    assert canonical_id(raw).canonical == expected
