"""Customer files as v1.1 items, read as a stream with byte positions to resume from.

A row becomes the same `{"mobile": …, "custom_fields": {"field": […]}}` object a till
sends to /v1.1/customer/add, so an import goes through exactly the API's rules. The
file is read line by line (a CSV field may span lines inside quotes), so memory does
not grow with the file, and every row carries the byte offset just after it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

Format = Literal["csv", "jsonl"]

# CSV columns that are v1.1 item fields as they are.
PLAIN_COLUMNS = {
    "mobile": "mobile",
    "email": "email",
    "external_id": "external_id",
    "firstname": "firstname",
    "lastname": "lastname",
    "type": "type",
    "source": "source",
    "accountId": "accountId",
    "account_id": "accountId",
    "registered_on": "registered_on",
    "updated_on": "updated_on",
    "registered_till": "registered_till",
    "associated_with": "associated_with",
    "referral_code": "referral_code",
}
FIELD_PREFIXES = {"custom_fields.": "custom_fields", "extended_fields.": "extended_fields"}


class FileProblem(ValueError):
    """The file cannot be imported at all (not a row's fault): unknown column, no header, …"""


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line where the row starts
    end: int  # byte offset just after the row: resume here
    item: dict[str, Any] | None  # the v1.1 customer object, or None when unreadable
    problem: str | None = None  # why the row is unreadable
    text: str = ""  # the raw row, for the rejects report


def guess_format(path: Path) -> Format:
    return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"


def _columns(header: list[str]) -> list[tuple[str, str]]:
    """(target, name) per column: a plain field, or custom_fields/extended_fields and the field name."""
    mapped = []
    for raw in header:
        name = raw.strip()
        if name in PLAIN_COLUMNS:
            mapped.append(("plain", PLAIN_COLUMNS[name]))
            continue
        prefix = next((p for p in FIELD_PREFIXES if name.startswith(p) and len(name) > len(p)), None)
        if prefix is None:
            known = ", ".join(sorted(PLAIN_COLUMNS)) + ", custom_fields.<name>, extended_fields.<name>"
            raise FileProblem(f"unknown column {name!r}; columns are: {known}")
        mapped.append((FIELD_PREFIXES[prefix], name[len(prefix) :]))
    if not any(target == "plain" and field in ("mobile", "email", "external_id") for target, field in mapped):
        raise FileProblem("the header names no identifier column (mobile, email or external_id)")
    return mapped


def _item(columns: list[tuple[str, str]], values: list[str]) -> dict[str, Any]:
    if len(values) != len(columns):
        raise ValueError(f"{len(values)} values for {len(columns)} columns")
    item: dict[str, Any] = {}
    for (target, name), value in zip(columns, values, strict=True):
        if value == "":
            continue  # an empty cell says nothing, as an absent JSON key
        if target == "plain":
            item[name] = value
        else:
            item.setdefault(target, {"field": []})["field"].append({"name": name, "value": value})
    return item


def _lines(handle: BinaryIO, start: int) -> Iterator[tuple[int, int, bytes]]:
    """(line number, end offset, raw bytes) of each line from `start`."""
    handle.seek(start)
    number = 0
    while True:
        raw = handle.readline()
        if not raw:
            return
        number += 1
        yield number, handle.tell(), raw


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8-sig").rstrip("\r\n")


def csv_header(path: Path) -> tuple[list[tuple[str, str]], int]:
    """The column mapping and the offset where data rows begin."""
    with path.open("rb") as handle:
        first = handle.readline()
        if not first.strip():
            raise FileProblem("the CSV file is empty: its first line must name the columns")
        try:
            header = next(csv.reader([_decode(first)]))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise FileProblem(f"the header line is not readable CSV: {exc}") from exc
        return _columns(header), handle.tell()


def read_rows(path: Path, fmt: Format, start: int = 0, first_line: int = 1) -> Iterator[Row]:
    """Rows from byte offset `start` (0: the beginning); `first_line` numbers the first one."""
    columns: list[tuple[str, str]] = []
    if fmt == "csv":
        columns, data_start = csv_header(path)
        if start < data_start:
            start, first_line = data_start, 2
    with path.open("rb") as handle:
        pending = b""
        pending_line = 0
        for number, end, raw in _lines(handle, start):
            line = first_line + number - 1
            if not pending:
                pending_line = line
            pending += raw
            if fmt == "csv" and pending.count(b'"') % 2 == 1:
                continue  # a quoted field goes on to the next line
            chunk, pending = pending, b""
            if not chunk.strip():
                continue
            yield _row(chunk, pending_line, end, fmt, columns)
        if pending.strip():
            yield Row(
                pending_line, handle.tell(), None, "unterminated quoted field at end of file", _text(pending)
            )


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _row(chunk: bytes, line: int, end: int, fmt: Format, columns: list[tuple[str, str]]) -> Row:
    try:
        text = chunk.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        return Row(line, end, None, "the row is not UTF-8 text", _text(chunk))
    try:
        if fmt == "jsonl":
            item = json.loads(text)
            if not isinstance(item, dict):
                return Row(line, end, None, "each line must be one JSON object (a v1.1 customer)", text)
            return Row(line, end, item, None, text)
        values = next(csv.reader(io.StringIO(text)))
        return Row(line, end, _item(columns, values), None, text)
    except (json.JSONDecodeError, csv.Error, ValueError, StopIteration) as exc:
        return Row(line, end, None, f"not readable {fmt.upper()}: {exc}", text)
