"""Rows in PostgreSQL's COPY text format, encoded without a connection.

An import's helper process plans a batch's rows; encoding them there, to bytes the
writing process hands to COPY as they are, spares the writer both unpickling the
rows and encoding them itself (together a third of its CPU). The format is
PostgreSQL's own (`COPY … FROM STDIN`, text): tab-separated columns, one row a
line, `\\N` for NULL, and backslash, tab, newline and carriage return escaped.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
import sqlalchemy as sa

NULL = "\\N"
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

Encoder = Callable[[Any], str]


# The encoders below spell values as text, unescaped: `encode` escapes a line's values
# only when the line shows that one of them needs it (rarely), not value by value.


def _escaped(text: str) -> str:
    return text.translate(_ESCAPES) if _SPECIAL.search(text) else text


def _string(value: Any) -> str:
    if value is None:
        return NULL
    if type(value) is str:
        return value
    return str(value.value if isinstance(value, Enum) else value)


def _json(value: Any) -> str:
    return NULL if value is None else orjson.dumps(value).decode()


def _boolean(value: Any) -> str:
    return NULL if value is None else ("t" if value else "f")


_last_time: tuple[Any, str] = (object(), NULL)


def _timestamp(value: Any) -> str:
    # A batch's rows share its one `now` in several columns each: spelled once.
    global _last_time
    if value is None:
        return NULL
    last, text = _last_time
    if value is last:
        return text
    text = str(value.isoformat())
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        text += "+00:00"  # the domain's times are UTC; a naive one is taken as such
    _last_time = (value, text)
    return text


def _number(value: Any) -> str:
    return NULL if value is None else str(value)


def _encoder(column: sa.Column[Any]) -> Encoder:
    kind = column.type
    if isinstance(kind, sa.JSON):
        return _json
    if isinstance(kind, sa.Boolean):
        return _boolean
    if isinstance(kind, sa.DateTime | sa.Date):
        return _timestamp
    if isinstance(kind, sa.Integer | sa.Numeric):
        return _number
    return _string


@dataclass
class CopyText:
    """A table's rows as COPY text, each line tagged with the batch position it belongs to."""

    columns: list[str]
    # Arrays, not lists: a batch's plans hold ~10,000 of these numbers, which as int objects
    # cost the writing process a third of its memory and time to unpickle.
    positions: array[int]
    data: bytes
    ends: array[int]  # byte offset just after each line

    def kept(self, positions: set[int]) -> bytes:
        """The lines of rows at `positions` (all of them, most of the time: no copy then)."""
        if all(p in positions for p in self.positions):
            return self.data
        starts = [0, *self.ends]
        return b"".join(
            self.data[starts[i] : end]
            for i, (p, end) in enumerate(zip(self.positions, self.ends, strict=True))
            if p in positions
        )


def encode(table: sa.Table, tagged: Sequence[tuple[int, dict[str, Any]]]) -> CopyText:
    """(position, row) pairs, rows of one table with the same keys, as COPY text. Pure, no I/O."""
    if not tagged:
        return CopyText([], array("q"), b"", array("q"))
    columns = list(tagged[0][1])
    encoders = [_encoder(table.c[name]) for name in columns]
    values = operator.itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    tabs = len(columns) - 1
    lines: list[bytes] = []
    ends = array("q")
    end = 0
    for _, row in tagged:
        given = values(row)
        fields = [f(v) for f, v in zip(encoders, given, strict=True)]
        text = "\t".join(fields)
        # Each NULL brings one backslash; any other backslash, tab or line break is a value's.
        if text.count("\t") != tabs or text.count("\\") != given.count(None) or "\n" in text or "\r" in text:
            text = "\t".join([t if v is None else _escaped(t) for t, v in zip(fields, given, strict=True)])
        line = (text + "\n").encode()
        lines.append(line)
        end += len(line)
        ends.append(end)
    return CopyText(columns, array("q", [p for p, _ in tagged]), b"".join(lines), ends)
