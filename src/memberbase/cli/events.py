"""`memberbase events …`: publish the outbox to NATS JetStream, replay a time range, show status."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from collections.abc import AsyncIterator, Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.broker.nats_sink import BrokerUnavailable, NatsSink, StreamSettings
from memberbase.broker.publisher import OutboxPublisher, count_window, replay
from memberbase.cli.errors import database_errors, fail
from memberbase.cli.errors import settings as settings_or_exit
from memberbase.settings import Settings
from memberbase.storage import outbox, schema
from memberbase.storage.database import create_engine

events_app = typer.Typer(
    help="Deliver registration events (the outbox) to NATS JetStream, or replay a time range."
)
out = Console()

DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Env: MEMBERBASE_DATABASE_URL (default ./memberbase.db).")
]
T = TypeVar("T")
NatsOpt = Annotated[
    str | None, typer.Option("--nats-url", help="nats://127.0.0.1:4222. Env: MEMBERBASE_NATS_URL.")
]


def _settings(database_url: str | None, nats_url: str | None) -> Settings:
    return settings_or_exit(database_url=database_url, nats_url=nats_url)


def _stream(settings: Settings) -> StreamSettings:
    if not settings.nats_url:
        raise typer.BadParameter("give --nats-url (or MEMBERBASE_NATS_URL)", param_hint="--nats-url")
    return StreamSettings(settings.nats_url, settings.events_stream, settings.events_subject_prefix)


def _when(text: str, option: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r} is not an ISO date or time (2026-11-01 or 2026-11-01T08:00)", param_hint=option
        ) from exc
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


@contextlib.asynccontextmanager
async def _connected(
    database_url: str, stream: StreamSettings
) -> AsyncIterator[tuple[AsyncEngine, NatsSink]]:
    """The database engine and the broker sink a command uses, closed whatever happens.

    The broker is reached before any work, even with nothing to send: a wrong URL must not
    pass for success (BrokerUnavailable, which `_run` turns into one line).
    """
    engine = create_engine(database_url)
    sink = NatsSink(stream)
    try:
        await sink.connect()
        yield engine, sink
    finally:
        await sink.close()
        await engine.dispose()


def _run(database_url: str, main: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; a broker or database that is away ends it with one line."""
    try:
        with database_errors(database_url):
            return asyncio.run(main)
    except BrokerUnavailable as exc:
        fail(str(exc))


@events_app.command("publish")
def publish(
    database_url: DatabaseOpt = None,
    nats_url: NatsOpt = None,
    once: Annotated[bool, typer.Option(help="Publish what is pending, then exit.")] = False,
) -> None:
    """Deliver pending events in order until stopped (Ctrl-C); one publisher is active at a time.

    The broker is checked first, even with nothing pending: unreachable, it exits 1.
    """
    settings = _settings(database_url, nats_url)
    stream = _stream(settings)
    with database_errors(settings.database_url):
        schema.upgrade(settings.database_url)

    async def main() -> int:
        async with _connected(settings.database_url, stream) as (engine, sink):
            publisher = OutboxPublisher(engine, sink)
            if once:
                return await publisher.publish_pending()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            out.print(f"publishing to {stream.url} stream {stream.stream}; Ctrl-C stops")
            await publisher.run(stop)
            return publisher.published

    sent = _run(settings.database_url, main())
    out.print(f"published {sent} events")


@events_app.command("replay")
def replay_command(
    since: Annotated[
        str, typer.Option("--since", help="Start, inclusive: 2026-11-01 or 2026-11-01T08:00 (UTC).")
    ],
    until: Annotated[str | None, typer.Option("--until", help="End, exclusive; default: now.")] = None,
    org: Annotated[int | None, typer.Option("--org", help="Only this organisation's events.")] = None,
    database_url: DatabaseOpt = None,
    nats_url: NatsOpt = None,
) -> None:
    """Re-publish every event that occurred in a time range, delivered before or not.

    Consumers see the original event ids again and deduplicate them. The broker is checked
    first: unreachable, it exits 1.
    """
    settings = _settings(database_url, nats_url)
    stream = _stream(settings)
    start = _when(since, "--since")
    end = None if until is None else _when(until, "--until")
    if end is not None and end <= start:
        raise typer.BadParameter("--until must be after --since", param_hint="--until")

    async def main() -> int:
        async with _connected(settings.database_url, stream) as (engine, sink):
            total = await count_window(engine, start, end, org)
            columns = (
                TextColumn("replaying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=out) as bar:
                task = bar.add_task("replay", total=total)
                return await replay(engine, sink, start, end, org, lambda n: bar.advance(task, n))

    sent = _run(settings.database_url, main())
    out.print(f"replayed {sent} events to stream {stream.stream}")


@events_app.command("status")
def status(database_url: DatabaseOpt = None) -> None:
    """How many events wait in the outbox, and how many were delivered."""
    settings = _settings(database_url, None)

    async def main() -> tuple[int, int]:
        engine = create_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                return await outbox.counts(conn)
        finally:
            await engine.dispose()

    pending, published = _run(settings.database_url, main())
    out.print(f"pending {pending}, published {published}")
