"""Request heads beyond the documented limits answer 431 before reaching the application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from memberbase.http.head_limits import DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_HEADERS, HeadLimitedProtocol
from memberbase.settings import Settings

pytestmark = pytest.mark.anyio


async def _echo(request: Request) -> Response:
    body = await request.body()
    return PlainTextResponse(f"{len(request.headers)} {len(body)}")


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = Starlette(routes=[Route("/{path:path}", _echo, methods=["GET", "POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, http=HeadLimitedProtocol)
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    for _ in range(500):  # uvicorn's Server offers no event to wait for
        if server.started:
            break
        await asyncio.sleep(0.01)
    found: Any = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield found
    finally:
        server.should_exit = True
        await serving


async def _raw(port: int, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body)
        with contextlib.suppress(ConnectionError):  # refused before the rest of it was read
            await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def test_the_documented_limits_are_the_settings_defaults() -> None:
    settings = Settings()
    assert (settings.max_header_bytes, settings.max_headers) == (DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_HEADERS)


async def test_a_1_mb_header_answers_431(port: int) -> None:
    head = b"GET /v1.1/customer/get HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n"
    status, body = await _raw(port, head)
    assert status == 431
    assert b'"code":431' in body
    assert b"Request header fields too large" in body


async def test_1000_headers_answer_431_in_the_v2_shape(port: int) -> None:
    lines = b"".join(b"X-H%d: 1\r\n" % n for n in range(1000))
    status, body = await _raw(port, b"GET /v2/customers/1 HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n")
    assert status == 431
    assert body.startswith(b'{"warnings":[],"errors":[{"status":false,"code":431')


async def test_a_head_that_never_ends_is_refused_before_it_is_all_sent(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
    refused = False
    try:
        for _ in range(64):  # up to 4 MiB of one header, never finished
            writer.write(b"a" * 65_536)
            await writer.drain()
    except ConnectionError:
        refused = True  # the server stopped reading and closed
    answer = b""
    with contextlib.suppress(ConnectionError):  # (a server that never refused: a timeout here)
        answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 431") or refused


async def test_heads_within_the_limits_and_large_bodies_are_served(port: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        headers = {f"X-H{n}": "v" for n in range(DEFAULT_MAX_HEADERS - 10)}
        assert (await client.get("/", headers=headers)).status_code == 200
        big = {"X-Big": "a" * (DEFAULT_MAX_HEAD_BYTES - 500)}
        assert (await client.get("/", headers=big)).status_code == 200
        body = b"x" * 3_000_000  # a body is not a head, however it arrives
        answer = await client.post("/", content=body)
        assert (answer.status_code, answer.text.split()[1]) == (200, str(len(body)))
        assert (await client.get("/")).status_code == 200  # the connection still serves
