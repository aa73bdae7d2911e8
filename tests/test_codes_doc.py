"""docs/codes.md lists every code of the table with its exact message."""

from __future__ import annotations

from pathlib import Path

from memberbase.domain.codes import all_codes


def test_every_code_and_message_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "codes.md").read_text()
    for name, code in all_codes():
        assert f"| {code.code} | `{name}` | {code.message} |" in doc, name
