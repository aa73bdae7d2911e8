"""`serve --nats-url` delivers the outbox as it fills; `events status|publish|replay` as users run them."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
import nats
import pytest
from typer.testing import CliRunner

from memberbase.cli.main import app
from tests.test_cli import DEMO_AUTH, _serve

runner = CliRunner()


async def _messages(url: str, subject: str, expect: int) -> list[dict[str, object]]:
    nc = await nats.connect(url)
    try:
        deadline = time.monotonic() + 15
        while True:  # the stream appears with the first event the server publishes
            try:
                sub = await nc.jetstream().subscribe(subject, ordered_consumer=True)
                break
            except nats.js.errors.NotFoundError:
                assert time.monotonic() < deadline, "the server never created its stream"
                await asyncio.sleep(0.2)
        found = []
        while time.monotonic() < deadline and len(found) < expect:
            try:
                found.append(json.loads((await sub.next_msg(timeout=0.5)).data))
            except nats.errors.TimeoutError:
                continue
        return found
    finally:
        await nc.close()


async def _drop(url: str, stream: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


def test_serve_publishes_events_and_replay_sends_them_again(
    tmp_path: Path, nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = uuid.uuid4().hex[:8]
    stream, prefix = f"MBCLI_{tag}", f"mbcli-{tag}"
    monkeypatch.setenv("MEMBERBASE_EVENTS_STREAM", stream)
    monkeypatch.setenv("MEMBERBASE_EVENTS_SUBJECT_PREFIX", prefix)
    proc, port = _serve(tmp_path, "--nats-url", nats_url, "--no-access-log")
    try:
        body = {"root": {"customer": [{"mobile": "919876532218", "firstname": "Tom"}]}}
        item = httpx.post(f"http://127.0.0.1:{port}/v1.1/customer/add", json=body, auth=DEMO_AUTH).json()
        effects = item["response"]["customers"]["customer"][0]["side_effects"]["effect"]
        assert [e["type"] for e in effects] == ["points", "coupon"]  # the demo org's welcome rewards
        got = asyncio.run(_messages(nats_url, f"{prefix}.50001.>", expect=3))
        assert [m["type"] for m in got] == ["customer.registered", "points.awarded", "coupon.issued"]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    env = {
        "MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "MEMBERBASE_NATS_URL": nats_url,
        "COLUMNS": "200",
    }
    status = runner.invoke(app, ["events", "status"], env=env)
    assert "pending 0, published 3" in status.output, status.output
    replayed = runner.invoke(app, ["events", "replay", "--since", "2000-01-01", "--org", "50001"], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 3 events" in replayed.output
    assert len(asyncio.run(_messages(nats_url, f"{prefix}.50001.>", expect=6))) == 6
    asyncio.run(_drop(nats_url, stream))


def test_events_commands_explain_bad_input(tmp_path: Path) -> None:
    env = {"MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    no_broker = runner.invoke(app, ["events", "publish", "--once"], env={**env, "MEMBERBASE_NATS_URL": ""})
    assert no_broker.exit_code == 2
    assert "--nats-url" in no_broker.output
    bad_date = runner.invoke(
        app, ["events", "replay", "--since", "yesterday", "--nats-url", "nats://127.0.0.1:4222"], env=env
    )
    assert bad_date.exit_code == 2
    assert "not an ISO date" in bad_date.output
