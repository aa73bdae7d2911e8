"""Bounded request heads: 431 beyond the documented header count and size.

uvicorn's httptools protocol takes any number of headers of any size: a 1 MB header and
1,000 headers were accepted, and httptools buffers a header until it is complete, so a
client could make a process hold as much as it cared to send. Here (the protocol `serve`
runs) a request head, its request line and headers together, may hold at most
`max_head_bytes` bytes and `max_headers` headers (MEMBERBASE_MAX_HEADER_BYTES and
MEMBERBASE_MAX_HEADERS); beyond either the answer is 431 in the API's error shape and
the connection is closed, before the request reaches the application.

Counted exactly as the parser hands over the request line and each header. A header still
arriving is not handed over yet, so the bytes received while a head is incomplete are
counted too, loosely (they may include the end of the previous request on the connection,
at most one read of the socket): past the limit and one read more, the head is refused.

After the 431 the connection reads and drops what the client is still sending, up to 1 MiB
or 2 seconds, before closing: closing on unread data makes the kernel reset the connection,
and a reset can destroy the answer before the client reads it.
"""

from __future__ import annotations

from typing import Any, cast

import orjson

from memberbase.domain.codes import Codes, V2Codes
from memberbase.http.one_write import HeadWithBody, OneWriteHttpToolsProtocol

DEFAULT_MAX_HEAD_BYTES = 16_384
DEFAULT_MAX_HEADERS = 100
_ONE_READ = 262_144  # the most a transport hands over at once (asyncio's and uvloop's reads)
_DRAIN_BYTES = 1_048_576
_DRAIN_SECONDS = 2.0


class HeadTooLarge(Exception):
    pass


def _body(path: str, detail: str) -> bytes:
    # Imported when first needed: a `serve --workers` process loads this module before it can
    # answer its supervisor's first health check, and the renderers bring in the whole app.
    from memberbase.http.v1_1.render import error_envelope
    from memberbase.http.v2.render import error_body

    if path.startswith(("/v2/", "/api_gateway/", "/v3/")):
        code = V2Codes.HEADERS_TOO_LARGE
        payload: Any = error_body(code, f"{code.message}: {detail}")
    else:
        code = Codes.HEADERS_TOO_LARGE
        payload = error_envelope(code, f"{code.message}: {detail}")
    return orjson.dumps(payload)


class HeadLimitedProtocol(OneWriteHttpToolsProtocol):
    """The protocol `serve` runs: one write per response (one_write.py), bounded heads."""

    max_head_bytes = DEFAULT_MAX_HEAD_BYTES
    max_headers = DEFAULT_MAX_HEADERS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0  # request line and headers handed over, of the current head
        self._headers = 0
        self._in_head = True
        self._received = 0  # bytes received since the current head began (loosely)
        self._refused: str | None = None
        self._drained: int | None = None  # once refused: bytes read and dropped since

    def data_received(self, data: bytes) -> None:
        if self._drained is not None:
            self._drained += len(data)
            if self._drained > _DRAIN_BYTES:
                self.transport.close()
            return
        if self._in_head:
            self._received += len(data)
        super().data_received(data)
        if self._in_head and self._refused is None and self._received > self.max_head_bytes + _ONE_READ:
            self._refused = f"the request head is over {self.max_head_bytes} bytes"
            self.send_400_response(self._refused)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = self._headers = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url) + 16, 0)  # with the method and version around it
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4, 1)
        super().on_header(name, value)

    def _count(self, size: int, headers: int) -> None:
        self._head_bytes += size
        self._headers += headers
        if self._headers > self.max_headers:
            self._refused = f"at most {self.max_headers} headers"
        elif self._head_bytes > self.max_head_bytes:
            self._refused = f"the request head is over {self.max_head_bytes} bytes"
        if self._refused is not None:
            raise HeadTooLarge(self._refused)  # the parser stops; uvicorn answers send_400_response

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._received = 0

    def send_400_response(self, msg: str) -> None:
        if self._refused is None:
            super().send_400_response(msg)
            return
        if self.transport.is_closing():
            return
        path = self.url.split(b"?", 1)[0].decode("latin-1") if getattr(self, "url", None) else ""
        body = _body(path, self._refused)
        head = (
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n"
        )
        transport = cast(HeadWithBody, self.transport)
        transport.write(head + body)
        transport.flush()
        if transport.can_write_eof():
            transport.write_eof()  # the answer and a FIN; what the client still sends is dropped
            self._drained = 0
            self.loop.call_later(_DRAIN_SECONDS, transport.close)
        else:
            transport.close()


def configure(max_head_bytes: int, max_headers: int) -> None:
    """The limits of every connection this process serves from now on (from its settings)."""
    HeadLimitedProtocol.max_head_bytes = max_head_bytes
    HeadLimitedProtocol.max_headers = max_headers
