"""The outbox publisher against real NATS JetStream servers.

One test uses the machine's NATS (4222); the restart tests run a private
nats-server on a free port with its own store, so killing it disturbs nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from memberbase.broker.nats_sink import CONNECT_ATTEMPTS, BrokerUnavailable, NatsSink, StreamSettings
from memberbase.broker.publisher import OutboxPublisher, replay
from memberbase.storage.database import create_engine
from memberbase.storage.outbox import StoredEvent
from tests.rewards_support import loyalty_api, query
from tests.support import OrgSpec, serving

pytestmark = pytest.mark.anyio

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateNats:
    """A nats-server of the test's own, which the test may kill and restart."""

    def __init__(self, store: Path) -> None:
        self.port = _free_port()
        self.store = store
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("private nats-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    if not os.path.exists(NATS_SERVER):
        if os.environ.get("CI") == "true":
            pytest.fail("nats-server is required under CI=true")
        pytest.skip("nats-server is not installed")
    server = PrivateNats(tmp_path / "jetstream")
    server.start()
    yield server
    server.kill()


def stream_settings(url: str) -> StreamSettings:
    tag = uuid.uuid4().hex[:10]
    return StreamSettings(url, stream=f"MBTEST_{tag}", subject_prefix=f"mbtest-{tag}")


async def delivered(stream: StreamSettings, org_id: int, expect: int, wait: float = 10.0) -> list[Any]:
    """Every message of the org on the stream, in stream order (as a consumer would read them)."""
    nc = await nats.connect(stream.url)
    try:
        js = nc.jetstream()
        deadline = asyncio.get_running_loop().time() + wait
        while True:  # the stream appears with the first event a publisher sends
            try:
                sub = await js.subscribe(f"{stream.subject_prefix}.{org_id}.>", ordered_consumer=True)
                break
            except nats.js.errors.NotFoundError:
                assert asyncio.get_running_loop().time() < deadline, "no stream"
                await asyncio.sleep(0.1)
        messages = []
        while asyncio.get_running_loop().time() < deadline:
            try:
                messages.append(await sub.next_msg(timeout=0.5))
            except nats.errors.TimeoutError:
                if len(messages) >= expect:
                    break
        await sub.unsubscribe()
        return messages
    finally:
        await nc.close()


async def drop_stream(stream: StreamSettings) -> None:
    nc = await nats.connect(stream.url)
    try:
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(stream.stream)
    finally:
        await nc.close()


async def outbox_of(database_url: str, org_id: int) -> list[tuple[int, str, int]]:
    rows = await query(
        database_url,
        "SELECT id, event_id, customer_id FROM outbox WHERE org_id = :o ORDER BY id",
        o=org_id,
    )
    return [(r[0], r[1], r[2]) for r in rows]


def check_exactly_once_in_order(messages: list[Any], outbox: list[tuple[int, str, int]]) -> None:
    """Deduplicated by event id, every outbox event arrived, each customer's in outbox order."""
    seen: dict[str, int] = {}
    last_per_customer: dict[int, int] = {}
    for msg in messages:
        body = json.loads(msg.data)
        if body["id"] in seen:
            continue  # a redelivery: the consumer drops it
        outbox_id = int(msg.headers["Memberbase-Outbox-Id"])
        seen[body["id"]] = outbox_id
        customer = body["customerId"]
        assert outbox_id > last_per_customer.get(customer, 0), "a customer's events arrived out of order"
        last_per_customer[customer] = outbox_id
    assert sorted(seen) == sorted(e for _, e, _ in outbox)


@pytest.fixture
async def client(app_client: tuple[Any, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_client[1]


async def register(api: Any, first: int, count: int) -> None:
    for n in range(first, first + count):
        item = await api.add_one({"mobile": f"9198770{n:05d}", "firstname": "N"})
        assert item["item_status"]["success"] == "true", item


async def test_publishes_the_outbox_to_the_machines_nats_and_marks_it(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec, nats_url: str
) -> None:
    api = await loyalty_api(client, database_url, org_spec, {"id": "W", "points": 10})
    await register(api, 1, 5)
    stream = stream_settings(nats_url)
    engine = create_engine(database_url)
    sink = NatsSink(stream)
    try:
        await OutboxPublisher(engine, sink).publish_pending()
        outbox = await outbox_of(database_url, org_spec.org_id)
        assert len(outbox) == 10  # registered + points.awarded each
        messages = await delivered(stream, org_spec.org_id, expect=10)
        check_exactly_once_in_order(messages, outbox)
        first = json.loads(messages[0].data)
        assert first["type"] == "customer.registered"
        assert first["orgId"] == org_spec.org_id
        pending = await query(
            database_url,
            "SELECT count(*) FROM outbox WHERE org_id = :o AND published_at IS NULL",
            o=org_spec.org_id,
        )
        assert pending[0][0] == 0
        # A replay re-sends the same events (same ids) past the stream's duplicate window.
        sent = await replay(engine, sink, since=_long_ago(), until=None, org_id=org_spec.org_id)
        assert sent == 10
        again = await delivered(stream, org_spec.org_id, expect=20)
        assert len(again) == 20
        assert {json.loads(m.data)["id"] for m in again} == {e for _, e, _ in outbox}
    finally:
        await sink.close()
        await drop_stream(stream)
        await engine.dispose()


def _long_ago() -> dt.datetime:
    return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class FailingAfter:
    """A sink that delivers `n` events to the real one, then fails like a vanished broker."""

    def __init__(self, real: NatsSink, n: int) -> None:
        self.real, self.left = real, n

    async def publish(self, event: StoredEvent, message_id: str | None = None) -> None:
        if self.left <= 0:
            raise ConnectionError("broker went away")
        self.left -= 1
        await self.real.publish(event, message_id)

    async def close(self) -> None:
        await self.real.close()


async def test_a_publisher_restart_neither_loses_nor_skips_events(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec, private_nats: PrivateNats
) -> None:
    api = await loyalty_api(client, database_url, org_spec)
    stream = stream_settings(private_nats.url)
    engine = create_engine(database_url)
    try:
        # Events of earlier tests share the database: drain them first, so counts are this test's.
        await OutboxPublisher(engine, NatsSink(stream)).publish_pending()
        await register(api, 100, 6)
        crashing = FailingAfter(NatsSink(stream), 4)
        with pytest.raises(ConnectionError):
            await OutboxPublisher(engine, crashing).publish_pending()
        await crashing.close()
        restarted = NatsSink(stream)
        await OutboxPublisher(engine, restarted).publish_pending()
        await restarted.close()
        outbox = await outbox_of(database_url, org_spec.org_id)
        check_exactly_once_in_order(await delivered(stream, org_spec.org_id, expect=len(outbox)), outbox)
    finally:
        await engine.dispose()


async def test_a_broker_restart_in_the_middle_of_a_load_loses_nothing(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec, private_nats: PrivateNats
) -> None:
    api = await loyalty_api(client, database_url, org_spec, {"id": "W", "points": 5})
    stream = stream_settings(private_nats.url)
    engine = create_engine(database_url)
    sink = NatsSink(stream)
    publisher = OutboxPublisher(engine, sink)
    stop = asyncio.Event()
    running = asyncio.create_task(publisher.run(stop))
    try:
        await register(api, 200, 15)
        private_nats.kill()  # mid-load: the publisher's next publishes fail
        await register(api, 215, 15)
        await asyncio.sleep(0.5)
        private_nats.start()  # same store: what was acknowledged is still there
        await register(api, 230, 15)
        for _ in range(200):  # until the publisher caught up
            pending = await query(database_url, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
            if pending[0][0] == 0:
                break
            await asyncio.sleep(0.1)
        assert pending[0][0] == 0
        outbox = await outbox_of(database_url, org_spec.org_id)
        assert len(outbox) == 90
        check_exactly_once_in_order(await delivered(stream, org_spec.org_id, expect=90), outbox)
    finally:
        stop.set()
        await running
        await sink.close()
        await engine.dispose()


async def test_only_one_publisher_is_active_at_a_time(database_url: str, tmp_path: Path) -> None:
    from memberbase.broker.publisher import leadership

    engine = create_engine(database_url)
    stop = asyncio.Event()
    try:
        async with leadership(engine, stop):
            contender = asyncio.create_task(_lead_once(engine, stop))
            await asyncio.sleep(1.5)
            assert not contender.done()  # standing by while the first one leads
        assert await asyncio.wait_for(contender, 5) is True
    finally:
        stop.set()
        await engine.dispose()


async def _lead_once(engine: Any, stop: asyncio.Event) -> bool:
    from memberbase.broker.publisher import leadership

    async with leadership(engine, stop) as alive:
        return await alive()


async def test_a_server_started_with_a_nats_url_publishes_as_it_registers(
    database_url: str, org_spec: OrgSpec, nats_url: str
) -> None:
    from memberbase.app import create_app
    from memberbase.settings import Settings

    stream = stream_settings(nats_url)
    settings = Settings(
        database_url=database_url,
        nats_url=nats_url,
        events_stream=stream.stream,
        events_subject_prefix=stream.subject_prefix,
    )
    app = create_app(settings)
    async with serving(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://memberbase.test") as client:
            api = await loyalty_api(client, database_url, org_spec, {"id": "W", "points": 1})
            await register(api, 300, 2)
            messages = await delivered(stream, org_spec.org_id, expect=4)
    assert [json.loads(m.data)["type"] for m in messages] == [
        "customer.registered",
        "points.awarded",
        "customer.registered",
        "points.awarded",
    ]
    await drop_stream(stream)


def _event(n: int) -> StoredEvent:
    payload = {"id": f"evt-{n}", "type": "customer.registered", "customerId": n}
    return StoredEvent(1, n, f"evt-{n}-{uuid.uuid4().hex}", "customer.registered", payload, _long_ago())


async def test_a_sink_whose_client_gave_up_connects_afresh_when_the_broker_is_back(
    private_nats: PrivateNats,
) -> None:
    # The client's own reconnecting is bounded (a dead broker must not hang a publish for
    # ever); past it, the next publish fails with one BrokerUnavailable, then a later one
    # starts a new connection.
    stream = stream_settings(private_nats.url)
    sink = NatsSink(stream)
    try:
        await sink.publish(_event(1))
        private_nats.kill()
        with pytest.raises(BrokerUnavailable):
            await sink.publish(_event(2))
        await asyncio.sleep(CONNECT_ATTEMPTS * 0.5 + 1)  # the old client has given up by now
        private_nats.start()
        await sink.publish(_event(2))
        assert len(await delivered(stream, 1, expect=2)) == 2
    finally:
        await sink.close()
        await drop_stream(stream)


async def test_a_dead_broker_fails_a_first_publish_within_its_attempts() -> None:
    sink = NatsSink(stream_settings(f"nats://127.0.0.1:{_free_port()}"))
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match=r"cannot reach NATS at .*Connect call failed"):
        await sink.publish(_event(1))
    assert time.monotonic() - started < CONNECT_ATTEMPTS * 0.5 + 5
    await sink.close()
