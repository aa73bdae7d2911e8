"""Response heads go out with their bodies, in one write, and are never held past the response."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from memberbase.http.one_write import HeadWithBody, OneWriteHttpToolsProtocol


class Recorded:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def _held() -> tuple[HeadWithBody, Recorded]:
    real = Recorded()
    return HeadWithBody(cast(asyncio.Transport, real)), real


def test_a_head_and_its_body_leave_in_one_write() -> None:
    transport, real = _held()
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert real.writes == []
    transport.write(b"{}")
    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    transport.write(b"more")  # later parts of a body go as they come
    assert real.writes[-1] == b"more"


def test_a_head_without_a_body_goes_on_flush_and_before_a_close() -> None:
    transport, real = _held()
    transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    transport.flush()
    assert real.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    transport.close()
    assert real.writes[-1] == b"HTTP/1.1 400 Bad Request\r\n\r\n"
    assert real.closed


def test_interim_heads_go_at_once_and_the_rest_is_the_real_transport() -> None:
    transport, real = _held()
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert real.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    assert transport.get_write_buffer_size() == 0


async def _text(request: Request) -> Response:
    return PlainTextResponse("x" * int(request.query_params.get("n", "1")))


async def _empty(_: Request) -> Response:
    return Response(status_code=204)


@pytest.mark.anyio
async def test_a_server_on_the_protocol_answers_gets_heads_and_empty_responses() -> None:
    app = Starlette(routes=[Route("/text", _text, methods=["GET", "HEAD"]), Route("/empty", _empty)])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, http=OneWriteHttpToolsProtocol)
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    for _ in range(500):  # uvicorn's Server offers no event to wait for
        if server.started:
            break
        await asyncio.sleep(0.01)
    port: Any = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for n in (1, 100_000):  # one segment, and a body larger than the socket buffer
                got = await client.get("/text", params={"n": n})
                assert (got.status_code, len(got.text)) == (200, n)
            head = await client.head("/text")
            assert (head.status_code, head.content) == (200, b"")
            assert (await client.get("/empty")).status_code == 204
            assert (await client.get("/text")).text == "x"  # the keep-alive connection still works
    finally:
        server.should_exit = True
        await serving
