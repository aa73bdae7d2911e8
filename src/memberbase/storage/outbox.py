"""The event outbox: written in the causing transaction, read in order by the publisher."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain.events import Event
from memberbase.storage.bulk import copy_rows, copy_text, take_sequence
from memberbase.storage.copy_text import CopyText, encode
from memberbase.storage.counters import take_ids
from memberbase.storage.customers import LOCK, lock_key
from memberbase.storage.database import Statement
from memberbase.storage.tables import outbox

_INSERT = Statement(outbox.insert())
COPY_FROM = 50  # events in one transaction; below this a plain INSERT is quicker


@dataclass(frozen=True)
class StoredEvent:
    org_id: int
    id: int
    event_id: str
    type: str
    payload: dict[str, Any]
    occurred_at: dt.datetime

    @property
    def subject(self) -> str:
        return f"memberbase.{self.org_id}.{self.type}"


def event_row(event: Event) -> dict[str, Any]:
    """The outbox row of an event, but its id (drawn when the transaction writes it)."""
    return {
        "org_id": event.org_id,
        "event_id": event.id,
        "customer_id": event.customer_id,
        "type": event.type,
        "payload": event.envelope(),
        "occurred_at": event.occurred_at,
    }


# `event_row`'s columns in its order, the id first: `_append_encoded` puts it there.
_ENCODED_COLUMNS = ["id", "org_id", "event_id", "customer_id", "type", "payload", "occurred_at"]


def encode_events(tagged: Sequence[tuple[int, Event]]) -> CopyText:
    """Events of customers a transaction creates, as outbox rows in COPY text without their
    ids, each tagged with its batch position (an import's helper process encodes them)."""
    return encode(outbox, [(position, event_row(e)) for position, e in tagged])


async def append(
    conn: AsyncConnection,
    events: Sequence[Event],
    created: Set[int] = frozenset(),
    encoded: Sequence[bytes] = (),
) -> None:
    """Write the transaction's events, last thing before commit, in one statement.

    On PostgreSQL the customers' locks are taken first (sorted, so writers never
    deadlock on them): a later transaction on the same customer gets its ids only
    after this one committed, so outbox id order is commit order per customer and
    the publisher, reading in id order, never delivers a customer's events out of order.
    A customer `created` by this transaction needs no lock: no other transaction can
    know it yet. `encoded` are `encode_events` lines of created customers; they take
    their ids before `events` (their customers' first events are among them).
    """
    if encoded:
        await _append_encoded(conn, b"".join(encoded))
    if not events:
        return
    rows = [event_row(e) for e in events]
    if conn.dialect.name == "postgresql":
        keys = sorted(
            {
                lock_key(e.org_id, "customer", str(e.customer_id))
                for e in events
                if e.customer_id not in created
            }
        )
        if keys:
            await LOCK.execute(conn, {"keys": keys})
        if len(rows) >= COPY_FROM:  # an import batch: ids in one round trip, rows by COPY
            for row, new_id in zip(rows, await take_sequence(conn, "outbox_id_seq", len(rows)), strict=True):
                row["id"] = new_id
            await copy_rows(conn, outbox, rows)
            return
    else:
        first = await take_ids(conn, "outbox", len(rows))
        for offset, row in enumerate(rows):
            row["id"] = first + offset
    await _INSERT.execute(conn, [{**row, "published_at": None} for row in rows])


async def _append_encoded(conn: AsyncConnection, lines: bytes) -> None:
    """COPY text lines are newline-terminated, newlines inside values escaped: one event a line."""
    assert conn.dialect.name == "postgresql", "encoded events come from the PostgreSQL fast path"
    events = lines.split(b"\n")[:-1]
    ids = await take_sequence(conn, "outbox_id_seq", len(events))
    data = b"".join([b"%d\t%b\n" % pair for pair in zip(ids, events, strict=True)])
    await copy_text(conn, outbox, _ENCODED_COLUMNS, data)


def _stored(row: Any) -> StoredEvent:
    occurred = row.occurred_at
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=dt.UTC)
    return StoredEvent(row.org_id, row.id, row.event_id, row.type, row.payload, occurred)


_COLUMNS = (
    outbox.c.org_id,
    outbox.c.id,
    outbox.c.event_id,
    outbox.c.type,
    outbox.c.payload,
    outbox.c.occurred_at,
)


async def unpublished(conn: AsyncConnection, limit: int) -> list[StoredEvent]:
    query = sa.select(*_COLUMNS).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(limit)
    return [_stored(r) for r in (await conn.execute(query)).all()]


async def mark_published(conn: AsyncConnection, events: Sequence[StoredEvent], at: dt.datetime) -> None:
    if not events:
        return
    keys = [(e.org_id, e.id) for e in events]
    await conn.execute(
        outbox.update().where(sa.tuple_(outbox.c.org_id, outbox.c.id).in_(keys)).values(published_at=at)
    )


async def window(
    conn: AsyncConnection,
    since: dt.datetime,
    until: dt.datetime | None,
    org_id: int | None,
    after_id: int,
    limit: int,
) -> list[StoredEvent]:
    """Events that occurred in [since, until), published or not, in id order, after `after_id`."""
    query = _in_window(sa.select(*_COLUMNS).where(outbox.c.id > after_id), since, until, org_id)
    query = query.order_by(outbox.c.id).limit(limit)
    return [_stored(r) for r in (await conn.execute(query)).all()]


def _in_window(
    query: sa.Select[Any], since: dt.datetime, until: dt.datetime | None, org_id: int | None
) -> sa.Select[Any]:
    query = query.where(outbox.c.occurred_at >= since)
    if until is not None:
        query = query.where(outbox.c.occurred_at < until)
    if org_id is not None:
        query = query.where(outbox.c.org_id == org_id)
    return query


async def count_window(
    conn: AsyncConnection, since: dt.datetime, until: dt.datetime | None, org_id: int | None
) -> int:
    query = _in_window(sa.select(sa.func.count()).select_from(outbox), since, until, org_id)
    return int((await conn.execute(query)).scalar_one())


async def counts(conn: AsyncConnection) -> tuple[int, int]:
    """(pending, published) events."""
    query = sa.select(
        sa.func.count().filter(outbox.c.published_at.is_(None)),
        sa.func.count().filter(outbox.c.published_at.is_not(None)),
    )
    row = (await conn.execute(query)).one()
    return int(row[0]), int(row[1])
