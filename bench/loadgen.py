"""A lean HTTP/1.1 load generator: keep-alive connections over asyncio streams.

httpx spends ~1 ms of CPU per request, which on a 2-core machine takes CPU from the
server it measures. Here each client writes prepared request bytes and reads the
status line, headers and Content-Length body: a few tens of µs per request.
Bounded in requests and time; connects only where told (the bench scripts: 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    sample: bytes = b""  # one response body, to check the server answered sensibly

    @property
    def failures(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)


def basic_auth(till: str, password: str) -> str:
    """The hosted convention: Basic till:md5(password)."""
    secret = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
    return "Basic " + base64.b64encode(f"{till}:{secret}".encode()).decode()


def request_bytes(
    method: str, path: str, auth: str, body: Any = None, headers: dict[str, str] | None = None
) -> bytes:
    payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n{extra}"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


async def run_load(
    port: int,
    concurrency: int,
    requests: int,
    max_seconds: float,
    make_request: Callable[[int], bytes],
    rate: float | None = None,
) -> LoadResult:
    """Send requests 0..requests-1 from `concurrency` keep-alive connections to 127.0.0.1:port.

    With `rate`, request n is sent no earlier than n/rate seconds after the start (an open
    load of `rate` requests/s, as long as the clients keep up): latency at a given load.
    """
    result = LoadResult()
    counter = iter(range(requests))
    stop_at = time.monotonic() + max_seconds
    begin = time.perf_counter()

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in counter:
                if time.monotonic() > stop_at:
                    return
                if rate is not None:
                    await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
                started = time.perf_counter()
                writer.write(make_request(n))
                status, body = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if not result.sample:
                    result.sample = body
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result
