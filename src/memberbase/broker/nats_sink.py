"""Publishing events to NATS JetStream, one acknowledged message at a time.

JetStream stores each message before it acknowledges it, so an acknowledged
event survives a broker restart. The event id travels as `Nats-Msg-Id`: a
message the publisher sends twice (it crashed between the broker's ack and
marking the row) is dropped by the stream's duplicate window, and consumers
deduplicate by the `id` in the body for anything older.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from memberbase.storage.outbox import StoredEvent

PUBLISH_TIMEOUT_SECONDS = 5.0


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
        # The client reconnects by itself (forever); a publish while it is away fails
        # and the publisher retries the same event, so nothing is skipped.
        self._nc = await nats.connect(
            self.settings.url,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=2,
            allow_reconnect=True,
        )
        self._js = self._nc.jetstream()
        await self._ensure_stream(self._js)

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        subjects = [f"{self.settings.subject_prefix}.>"]
        try:
            await js.stream_info(self.settings.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(name=self.settings.stream, subjects=subjects, storage=StorageType.FILE)
            )

    async def publish(self, event: StoredEvent, message_id: str | None = None) -> None:
        if self._js is None:
            await self.connect()
        assert self._js is not None
        await self._js.publish(
            self.settings.subject(event),
            json.dumps(event.payload, separators=(",", ":")).encode(),
            timeout=PUBLISH_TIMEOUT_SECONDS,
            stream=self.settings.stream,
            # The outbox id lets a consumer check it sees one customer's events in order.
            headers={"Nats-Msg-Id": message_id or event.event_id, "Memberbase-Outbox-Id": str(event.id)},
        )

    async def close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()
        self._nc = self._js = None
