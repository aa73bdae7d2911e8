"""Write docs/codes.md from the codes table: `python tools/codes_doc.py`.

tests/test_codes_doc.py fails when the page and the table disagree, so run this
after changing src/memberbase/domain/codes.py.
"""

from __future__ import annotations

from pathlib import Path

from memberbase.domain.codes import Code, Kind, all_codes

HEADER = """# Codes and messages

Every code memberbase answers, with its message exactly as sent. The single source is
`src/memberbase/domain/codes.py`; this page is generated from it by `python tools/codes_doc.py`,
and `tests/test_codes_doc.py` fails when the two disagree. Messages with `{}` are filled in
(for example `Email update is not allowed`). An error or warning that names a field or value
appends `: <detail>` to the message (for example `Provided Custom Field is invalid: shoe_size is
not a custom field of this organisation`).
"""

SECTIONS = [
    (
        "v1.1 request-level status (`response.status.code`; the HTTP status mirrors it, 1060 answers 400)",
        False,
        Kind.REQUEST,
    ),
    ("v1.1 item successes (`item_status.code`)", False, Kind.SUCCESS),
    ("v1.1 item errors (`item_status.code`; the item is not stored)", False, Kind.ERROR),
    (
        "v1.1 item warnings (`item_status.warnings.warning[]`; the item is stored and the message is appended"
        " to `item_status.message`)",
        False,
        Kind.WARNING,
    ),
    (
        "v2 errors (`errors[]` with HTTP 4xx; 8301-8309 are memberbase's own, for faults the hosted"
        " documents give no code for)",
        True,
        Kind.ERROR,
    ),
    ("v2 warnings (`warnings[]`; the customer is stored)", True, Kind.WARNING),
]


def rows(v2: bool, kind: Kind) -> list[tuple[str, Code]]:
    return [(n, c) for n, c in all_codes() if n.startswith("V2.") == v2 and c.kind is kind]


def render() -> str:
    out = [HEADER]
    for title, v2, kind in SECTIONS:
        out += [f"## {title}", "", "| code | name | message |", "|---|---|---|"]
        out += [f"| {c.code} | `{n}` | {c.message} |" for n, c in rows(v2, kind)]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "codes.md"
    target.write_text(render())
    print(f"wrote {target}")
