"""Publishing events to NATS JetStream, one acknowledged message at a time.

JetStream stores each message before it acknowledges it, so an acknowledged
event survives a broker restart. The event id travels as `Nats-Msg-Id`: a
message the publisher sends twice (it crashed between the broker's ack and
marking the row) is dropped by the stream's duplicate window, and consumers
deduplicate by the `id` in the body for anything older.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass

import nats
import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from memberbase.storage.outbox import StoredEvent

log = logging.getLogger("memberbase.broker")

PUBLISH_TIMEOUT_SECONDS = 5.0
# Tries per connection, first ones and after a drop alike (half a second apart): then the client
# gives up and the next publish connects afresh. Unbounded, a dead broker hung the first publish
# for ever (`events publish --once` never returned).
CONNECT_ATTEMPTS = 4
# What the broker client raises when the broker is away, refuses, or times out.
BROKER_ERRORS = (OSError, TimeoutError, nats.errors.Error)


class BrokerUnavailable(Exception):
    """The broker cannot be reached, has no JetStream, or did not take an event: one line says why."""


@dataclass(frozen=True)
class StreamSettings:
    url: str
    stream: str = "MEMBERBASE"
    subject_prefix: str = "memberbase"

    def subject(self, event: StoredEvent) -> str:
        return f"{self.subject_prefix}.{event.org_id}.{event.type}"


class NatsSink:
    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None

    async def connect(self) -> None:
        """Connect and make sure the stream exists; BrokerUnavailable after CONNECT_ATTEMPTS tries."""
        url = self.settings.url
        failures: list[Exception] = []
        connected = False

        async def note(exc: Exception) -> None:
            # nats-py's default logs every failed try with a traceback. Failed first tries end
            # in the one BrokerUnavailable below; trouble once connected is worth a line each.
            failures.append(exc)
            log.log(logging.WARNING if connected else logging.DEBUG, "NATS at %s: %s", url, _reason(exc))

        try:
            nc = await nats.connect(
                url,
                max_reconnect_attempts=CONNECT_ATTEMPTS - 1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                allow_reconnect=True,
                error_cb=note,
            )
        except (*BROKER_ERRORS, ValueError) as exc:
            last = failures[-1] if failures else exc  # NoServersError alone says nothing of why
            raise BrokerUnavailable(f"cannot reach NATS at {url}: {_reason(last)}") from exc
        connected = True
        try:
            js = nc.jetstream()
            await self._ensure_stream(js)
        except BROKER_ERRORS as exc:
            await _close_quietly(nc)
            raise BrokerUnavailable(
                f"NATS at {url} answered but has no usable JetStream stream {self.settings.stream!r} "
                f"(is it started with -js?): {_reason(exc)}"
            ) from exc
        self._nc, self._js = nc, js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        subjects = [f"{self.settings.subject_prefix}.>"]
        try:
            await js.stream_info(self.settings.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(name=self.settings.stream, subjects=subjects, storage=StorageType.FILE)
            )

    async def publish(self, event: StoredEvent, message_id: str | None = None) -> None:
        if self._nc is None or self._nc.is_closed:  # never connected, or the client gave up
            self._nc = self._js = None
            await self.connect()
        assert self._js is not None
        try:
            await self._js.publish(
                self.settings.subject(event),
                json.dumps(event.payload, separators=(",", ":")).encode(),
                timeout=PUBLISH_TIMEOUT_SECONDS,
                stream=self.settings.stream,
                # The outbox id lets a consumer check it sees one customer's events in order.
                headers={"Nats-Msg-Id": message_id or event.event_id, "Memberbase-Outbox-Id": str(event.id)},
            )
        except BROKER_ERRORS as exc:
            raise BrokerUnavailable(
                f"NATS at {self.settings.url} did not take event {event.id}: {_reason(exc)}"
            ) from exc

    async def close(self) -> None:
        if self._nc is not None:
            await _close_quietly(self._nc)
        self._nc = self._js = None


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


async def _close_quietly(nc: Client) -> None:
    """Drain a connected client (what it sent is flushed); close one that is still reconnecting."""
    if nc.is_closed:
        return
    with contextlib.suppress(*BROKER_ERRORS):
        if nc.is_connected:
            await nc.drain()
        else:
            await nc.close()
