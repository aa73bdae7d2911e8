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
from functools import partial
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

    async def aclose(self) -> None:
        """Wait for the reads in flight, so every connection is back in the pool (shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start(self) -> None:
        self._start_scheduled = False
        while self._waiting and self._running < self._in_flight:
            self._running += 1
            task = asyncio.get_running_loop().create_task(self._drain(*self._next_batch()))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _next_batch(self) -> tuple[int, list[tuple[Key, asyncio.Future[Answer]]]]:
        org_id = next(iter(self._waiting))
        waiting = self._waiting.pop(org_id)
        batch, rest = waiting[: self._max_batch], waiting[self._max_batch :]
        if rest:
            self._waiting[org_id] = rest
        return org_id, batch

    async def _drain(self, org_id: int, batch: list[tuple[Key, asyncio.Future[Answer]]]) -> None:
        """Read batches on one connection while requests keep waiting for them.

        Under load there nearly always are: the connection then stays with this reader
        instead of going back to the pool and out again per batch (51 µs of CPU, more
        under contention). `aclose` waits for the readers to give their connections back.
        """
        deliver: Callable[[], None] | None = None
        connected = False
        try:
            async with reading(self._engine) as conn:
                connected = True
                while True:
                    deliver, ok = await self._read_batch(conn, org_id, batch)
                    if not ok:
                        break  # the connection may be broken: the next reader takes a new one
                    deliver()
                    deliver = None
                    if not self._waiting:
                        # Callers just answered often ask again in this turn of the loop
                        # (the next request on a keep-alive connection, already read).
                        await asyncio.sleep(0)
                        if not self._waiting:
                            break
                    org_id, batch = self._next_batch()
        except Exception as exc:
            if connected:
                raise  # giving the connection back failed; its batches were answered
            _fail(batch, exc)  # no connection: the batch that was to use it fails
        finally:
            if deliver is not None:
                deliver()
            self._running -= 1
            if self._waiting and not self._start_scheduled:
                self._start()

    async def _read_batch(
        self, conn: AsyncConnection, org_id: int, batch: list[tuple[Key, asyncio.Future[Answer]]]
    ) -> tuple[Callable[[], None], bool]:
        """Read one batch: how to answer its callers, and whether the read succeeded (else
        each caller gets the failure its own statement would have raised)."""
        live = [(key, answer) for key, answer in batch if not answer.done()]  # skip callers gone
        if not live:
            return (lambda: None), True
        try:
            found = await self._read(conn, org_id, [key for key, _ in live])
            answers = [(waiter, answer) for (_, waiter), answer in zip(live, found, strict=True)]
        except asyncio.CancelledError:
            for _, waiter in live:
                waiter.cancel()
            raise
        except Exception as exc:
            return partial(_fail, live, exc), False
        return partial(_answer, answers), True


def _answer(answers: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for waiter, found in answers:
        if not waiter.done():
            waiter.set_result(found)


def _fail(batch: Sequence[tuple[object, asyncio.Future[Any]]], exc: Exception) -> None:
    for _, waiter in batch:
        if not waiter.done():
            waiter.set_exception(exc)
