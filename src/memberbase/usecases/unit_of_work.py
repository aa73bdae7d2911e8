"""The one place a use case commits.

A use case opens a UnitOfWork, does its reads and writes through repositories
built on `conn`, and either leaves the block normally (commit) or raises
(rollback). `savepoint()` scopes one batch item, so a bad item leaves nothing
behind while its siblings commit.

Events a use case emits are held until commit and written to the outbox in the
same transaction, just before it commits: a customer is never stored without
its events, and events of an item whose savepoint rolled back are dropped with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from memberbase.domain.events import Event
from memberbase.storage import outbox

if TYPE_CHECKING:
    from memberbase.usecases.auditing import RequestContext


class UnitOfWork:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None
        self.events: list[Event] = []
        self.encoded_events: list[bytes] = []  # `outbox.encode_events` lines, PostgreSQL's fast path
        self.created: set[int] = set()  # customers this transaction created (their events need no lock)

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("UnitOfWork used outside its `async with` block")
        return self._conn

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._engine.connect()
        self._tx = await self._conn.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        assert self._tx is not None
        try:
            if exc_type is None:
                await outbox.append(self._conn, self.events, self.created, self.encoded_events)
                await self._tx.commit()
            else:
                await self._tx.rollback()
        finally:
            await self._conn.close()
            self._conn = self._tx = None

    async def seal(self, context: RequestContext, result: Any) -> None:
        """Keep the answer to an Idempotency-Key's write in this transaction (no key: nothing)."""
        if context.idempotency is not None:
            await context.idempotency.seal(self.conn, result, context.now)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def emit_encoded(self, lines: bytes) -> None:
        """Events of customers this transaction creates, already outbox rows (`outbox.encode_events`)."""
        if lines:  # a plan none of whose rows turned out new has none
            self.encoded_events.append(lines)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        held, held_encoded = len(self.events), len(self.encoded_events)
        try:
            async with self.conn.begin_nested():
                yield
        except BaseException:
            del self.events[held:]
            del self.encoded_events[held_encoded:]
            raise
