"""Concurrent reads share one statement: batching, order, orgs, failures, callers gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

from memberbase.storage import coalescing
from memberbase.storage.coalescing import Coalescer

pytestmark = pytest.mark.anyio


class Connections:
    """Stands in for `reading`: counts the connections taken; can refuse to give one."""

    def __init__(self) -> None:
        self.taken = 0
        self.out = 0
        self.refuse: Exception | None = None

    @asynccontextmanager
    async def reading(self, _engine: Any) -> AsyncIterator[str]:
        if self.refuse is not None:
            raise self.refuse
        self.taken += 1
        self.out += 1
        try:
            yield "conn"
        finally:
            await asyncio.sleep(0.01)  # giving a connection back takes a while, as the pool's does
            self.out -= 1


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    fake = Connections()
    monkeypatch.setattr(coalescing, "reading", fake.reading)
    return fake


class Recorder:
    def __init__(self, fail: Exception | None = None, pause: asyncio.Event | None = None) -> None:
        self.batches: list[tuple[int, list[str]]] = []
        self.fail = fail
        self.pause = pause

    async def __call__(self, conn: Any, org_id: int, keys: Sequence[str]) -> list[str]:
        assert conn == "conn"
        self.batches.append((org_id, list(keys)))
        if self.pause is not None:
            await self.pause.wait()
        if self.fail is not None:
            raise self.fail
        return [f"{org_id}:{key}" for key in keys]


async def test_requests_arriving_together_share_one_read_and_get_their_own_answers() -> None:
    read = Recorder()
    coalescer = Coalescer[str, str](object(), read)  # type: ignore[arg-type]
    answers = await asyncio.gather(*(coalescer.get(1, f"k{n}") for n in range(10)))
    assert answers == [f"1:k{n}" for n in range(10)]
    assert read.batches == [(1, [f"k{n}" for n in range(10)])]


async def test_each_org_is_read_apart() -> None:
    read = Recorder()
    coalescer = Coalescer[str, str](object(), read)  # type: ignore[arg-type]
    answers = await asyncio.gather(coalescer.get(1, "a"), coalescer.get(2, "b"), coalescer.get(1, "c"))
    assert answers == ["1:a", "2:b", "1:c"]
    assert sorted(read.batches) == [(1, ["a", "c"]), (2, ["b"])]


async def test_batches_are_capped_and_requests_wait_while_the_reads_in_flight_run() -> None:
    pause = asyncio.Event()
    read = Recorder(pause=pause)
    coalescer = Coalescer[str, str](object(), read, in_flight=1, max_batch=3)  # type: ignore[arg-type]
    first = [asyncio.ensure_future(coalescer.get(1, f"a{n}")) for n in range(5)]
    await asyncio.sleep(0.01)
    assert read.batches == [(1, ["a0", "a1", "a2"])]  # one in flight, capped at 3
    later = asyncio.ensure_future(coalescer.get(1, "b"))
    await asyncio.sleep(0.01)
    assert len(read.batches) == 1  # still one in flight: the rest wait together
    pause.set()
    assert await asyncio.gather(*first, later) == ["1:a0", "1:a1", "1:a2", "1:a3", "1:a4", "1:b"]
    assert read.batches[1:] == [(1, ["a3", "a4", "b"])]


async def test_a_failed_read_fails_every_request_in_it_and_the_next_batch_runs() -> None:
    read = Recorder(fail=RuntimeError("database gone"))
    coalescer = Coalescer[str, str](object(), read)  # type: ignore[arg-type]
    results = await asyncio.gather(coalescer.get(1, "a"), coalescer.get(1, "b"), return_exceptions=True)
    assert [str(r) for r in results] == ["database gone", "database gone"]
    read.fail = None
    assert await coalescer.get(1, "c") == "1:c"


async def test_a_caller_gone_before_its_batch_runs_is_not_read_for() -> None:
    pause = asyncio.Event()
    read = Recorder(pause=pause)
    coalescer = Coalescer[str, str](object(), read, in_flight=1)  # type: ignore[arg-type]
    running = asyncio.ensure_future(coalescer.get(1, "a"))
    await asyncio.sleep(0.01)
    gone = asyncio.ensure_future(coalescer.get(1, "gone"))
    kept = asyncio.ensure_future(coalescer.get(1, "kept"))
    await asyncio.sleep(0.01)
    gone.cancel()
    pause.set()
    assert await asyncio.gather(running, kept) == ["1:a", "1:kept"]
    assert read.batches == [(1, ["a"]), (1, ["kept"])]


async def test_a_reader_keeps_its_connection_while_batches_keep_coming(connections: Connections) -> None:
    pause = asyncio.Event()
    read = Recorder(pause=pause)
    coalescer = Coalescer[str, str](object(), read, in_flight=1)  # type: ignore[arg-type]
    first = asyncio.ensure_future(coalescer.get(1, "a"))
    await asyncio.sleep(0.01)
    more = [asyncio.ensure_future(coalescer.get(org, key)) for org, key in ((1, "b"), (2, "c"))]
    await asyncio.sleep(0.01)
    pause.set()
    assert await asyncio.gather(first, *more) == ["1:a", "1:b", "2:c"]
    assert read.batches == [(1, ["a"]), (1, ["b"]), (2, ["c"])]
    assert connections.taken == 1  # three batches, one checkout
    assert await coalescer.get(1, "d") == "1:d"
    assert connections.taken == 2  # a quiet spell gave it back


async def test_after_a_failed_read_the_next_batch_takes_a_new_connection(connections: Connections) -> None:
    pause = asyncio.Event()
    batches: list[list[str]] = []

    async def first_read_fails(conn: Any, org_id: int, keys: Sequence[str]) -> list[str]:
        batches.append(list(keys))
        if len(batches) == 1:
            await pause.wait()
            raise RuntimeError("connection lost")
        return [f"{org_id}:{key}" for key in keys]

    coalescer = Coalescer[str, str](object(), first_read_fails, in_flight=1)  # type: ignore[arg-type]
    failing = asyncio.ensure_future(coalescer.get(1, "a"))
    await asyncio.sleep(0.01)
    later = asyncio.ensure_future(coalescer.get(1, "b"))  # waits behind the failing read
    await asyncio.sleep(0.01)
    pause.set()
    results = await asyncio.gather(failing, later, return_exceptions=True)
    assert str(results[0]) == "connection lost"
    assert results[1] == "1:b"
    assert batches == [["a"], ["b"]]
    assert connections.taken == 2


async def test_without_a_connection_the_waiting_callers_fail_and_later_ones_are_answered(
    connections: Connections,
) -> None:
    connections.refuse = OSError("database unreachable")
    coalescer = Coalescer[str, str](object(), Recorder())  # type: ignore[arg-type]
    results = await asyncio.gather(coalescer.get(1, "a"), coalescer.get(2, "b"), return_exceptions=True)
    assert [str(r) for r in results] == ["database unreachable", "database unreachable"]
    connections.refuse = None
    assert await coalescer.get(1, "c") == "1:c"


async def test_aclose_waits_until_every_connection_is_back(connections: Connections) -> None:
    """Shutting down disposes the engine next: no reader may still hold a connection then."""
    coalescer = Coalescer[str, str](object(), Recorder())  # type: ignore[arg-type]
    assert await asyncio.gather(coalescer.get(1, "a"), coalescer.get(2, "b")) == ["1:a", "2:b"]
    await coalescer.aclose()
    assert connections.out == 0
