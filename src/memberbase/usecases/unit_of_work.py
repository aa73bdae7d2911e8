"""The one place a use case commits.

A use case opens a UnitOfWork, does its reads and writes through repositories
built on `conn`, and either leaves the block normally (commit) or raises
(rollback). `savepoint()` scopes one batch item, so a bad item leaves nothing
behind while its siblings commit.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction
from sqlalchemy.ext.asyncio.engine import AsyncTransaction as _Nested


class UnitOfWork:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None

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
                await self._tx.commit()
            else:
                await self._tx.rollback()
        finally:
            await self._conn.close()
            self._conn = self._tx = None

    def savepoint(self) -> _Nested:
        return self.conn.begin_nested()
