"""docs/export.md names every column the export carries, section by section."""

from __future__ import annotations

from pathlib import Path

from memberbase.storage import tables
from memberbase.storage.export import SECTIONS


def test_every_exported_column_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "export.md").read_text()
    rows = {
        line.split("|")[1].strip().strip("`"): line for line in doc.splitlines() if line.startswith("| `")
    }
    every = [("customer", tables.customers), *((s, t) for s, t, _ in SECTIONS), ("merges", tables.merges)]
    for section, table in every:
        assert section in rows, section
        for column in table.c:
            if column.name != "org_id":
                assert f"`{column.name}`" in rows[section], f"{section}.{column.name}"
