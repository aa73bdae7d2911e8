"""`serve --nats-url` delivers the outbox as it fills; `events status|publish|replay` as users run them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import nats
import pytest
from typer.testing import CliRunner

from memberbase.cli.main import app
from tests.broker.test_publisher import NATS_SERVER
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memberbase(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it; a hang fails the test instead of stalling the suite."""
    return subprocess.run(
        [sys.executable, "-m", "memberbase", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def _with_pending_events(tmp_path: Path) -> dict[str, str]:
    """A SQLite database with the demo org and one imported customer: three events pending."""
    env = {"MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'events.db'}", "COLUMNS": "200"}
    demo = Path(__file__).resolve().parents[1] / "src" / "memberbase" / "demo.yaml"
    assert runner.invoke(app, ["orgs", "load", str(demo)], env=env).exit_code == 0
    rows = tmp_path / "one.csv"
    rows.write_text("mobile,firstname\n919811800001,Ann\n")
    assert runner.invoke(app, ["import", str(rows), "--org", "50001"], env=env).exit_code == 0
    assert "pending 3, published 0" in runner.invoke(app, ["events", "status"], env=env).output
    return env


@pytest.mark.parametrize("pending", [True, False], ids=["events-pending", "nothing-pending"])
def test_publish_once_against_a_dead_broker_fails_fast_with_one_line(tmp_path: Path, pending: bool) -> None:
    env = (
        _with_pending_events(tmp_path)
        if pending
        else {"MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    )
    port = _free_port()
    dead = f"nats://127.0.0.1:{port}"
    started = time.monotonic()
    result = _memberbase("events", "publish", "--once", "--nats-url", dead, env=env)
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: cannot reach NATS at {dead}: [Errno 111] Connect call failed ('127.0.0.1', {port})"
    ]
    if pending:
        assert "pending 3, published 0" in runner.invoke(app, ["events", "status"], env=env).output


def test_replay_against_a_dead_broker_fails_fast_with_one_line(tmp_path: Path) -> None:
    env = {"MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    dead = f"nats://127.0.0.1:{_free_port()}"
    result = _memberbase("events", "replay", "--since", "2000-01-01", "--nats-url", dead, env=env)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert f"cannot reach NATS at {dead}" in result.stderr


def test_publish_once_with_nothing_pending_checks_the_broker_and_its_stream(
    tmp_path: Path, nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = f"MBONCE_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MEMBERBASE_EVENTS_STREAM", stream)
    env = {"MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "MEMBERBASE_NATS_URL": nats_url}
    result = runner.invoke(app, ["events", "publish", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "published 0 events" in result.output

    async def stream_exists() -> bool:
        nc = await nats.connect(nats_url)
        try:
            return (await nc.jetstream().stream_info(stream)).config.name == stream
        finally:
            await nc.close()

    assert asyncio.run(stream_exists())
    asyncio.run(_drop(nats_url, stream))


def test_a_broker_without_jetstream_is_named_as_such(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port)],  # no -js
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.05)
        env = {"MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
        result = _memberbase("events", "publish", "--once", "--nats-url", f"nats://127.0.0.1:{port}", env=env)
    finally:
        server.kill()
        server.wait()
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "has no usable JetStream stream 'MEMBERBASE' (is it started with -js?)" in result.stderr


def test_a_url_that_is_not_nats_is_refused_before_anything_runs(tmp_path: Path) -> None:
    env = {"MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "COLUMNS": "200"}
    args = ["events", "publish", "--once", "--nats-url", "http://127.0.0.1:8222"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2
    assert "'http://127.0.0.1:8222' is not a NATS URL: use nats://host:4222" in result.output
