"""Reads asked for at the same moment by different requests, answered by one statement.

A lookup by identifier is one short statement, and what it costs is mostly around the
statement: a pool checkout, the driver's bind and execute, a round trip that puts the
process to sleep and wakes it. Under load a server process has several lookups waiting
at once; asking for all of them together pays those costs once per batch instead of
once per request (the DataLoader pattern). Nothing waits for company: the first request
after a quiet spell runs at once, and requests that arrive while `in_flight` statements
are running go together in the next. Each batch is one org's, on a `reading`
connection (autocommit: every statement sees what was committed before it started, as
each request's own statement would have), which its reader keeps for the next batch
while requests keep waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from memberbase.storage.database import reading

Key = TypeVar("Key")
Answer = TypeVar("Answer")
# Reads the answers of one org's keys, in the order of the keys.
BatchRead = Callable[[AsyncConnection, int, Sequence[Key]], Awaitable[Sequence[Answer]]]


class Coalescer(Generic[Key, Answer]):
    def __init__(
        self, engine: AsyncEngine, read: BatchRead[Key, Answer], *, in_flight: int = 2, max_batch: int = 100
    ) -> None:
        self._engine = engine
        self._read = read
        self._in_flight = in_flight
        self._max_batch = max_batch
        self._waiting: dict[int, list[tuple[Key, asyncio.Future[Answer]]]] = {}
        self._running = 0
        self._start_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()  # held, or the loop may drop them mid-run

    async def get(self, org_id: int, key: Key) -> Answer:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()
        self._waiting.setdefault(org_id, []).append((key, answer))
        if not self._start_scheduled and self._running < self._in_flight:
            # Soon rather than now: requests read from the sockets in the same turn of
            # the event loop join this batch.
            self._start_scheduled = True
            loop.call_soon(self._start)
        return await answer

    def _start(self) -> None:
        self._start_scheduled = False
        while self._waiting and self._running < self._in_flight:
            self._running += 1
            task = asyncio.get_running_loop().create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _next_batch(self) -> tuple[int, list[tuple[Key, asyncio.Future[Answer]]]]:
        org_id = next(iter(self._waiting))
        waiting = self._waiting.pop(org_id)
        batch, rest = waiting[: self._max_batch], waiting[self._max_batch :]
        if rest:
            self._waiting[org_id] = rest
        return org_id, batch

    async def _drain(self) -> None:
        """Read batches on one connection while requests keep waiting for them.

        Under load there nearly always are: the connection then stays with this reader
        instead of going back to the pool and out again per batch (51 µs of CPU).
        """
        connected = False
        try:
            try:
                async with reading(self._engine) as conn:
                    connected = True
                    while self._waiting:
                        if not await self._read_batch(conn, *self._next_batch()):
                            break  # the connection may be broken: the next reader takes a new one
            except Exception as exc:
                if connected:
                    raise  # giving the connection back failed; every batch taken was answered
                if self._waiting:  # no connection: the batch that would have used it fails
                    _fail(self._next_batch()[1], exc)
        finally:
            self._running -= 1
            if self._waiting and not self._start_scheduled:
                self._start()

    async def _read_batch(
        self, conn: AsyncConnection, org_id: int, batch: list[tuple[Key, asyncio.Future[Answer]]]
    ) -> bool:
        """Answer one batch's callers; False when the read failed (each caller gets its error)."""
        live = [(key, answer) for key, answer in batch if not answer.done()]  # skip callers gone
        if not live:
            return True
        try:
            answers = list(zip(live, await self._read(conn, org_id, [key for key, _ in live]), strict=True))
        except asyncio.CancelledError:
            for _, waiter in live:
                waiter.cancel()
            raise
        except Exception as exc:  # each caller gets the failure its own statement would have raised
            _fail(live, exc)
            return False
        for (_, waiter), found in answers:
            if not waiter.done():
                waiter.set_result(found)
        return True


def _fail(batch: Sequence[tuple[object, asyncio.Future[Any]]], exc: Exception) -> None:
    for _, waiter in batch:
        if not waiter.done():
            waiter.set_exception(exc)
