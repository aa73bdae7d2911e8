"""The `memberbase` command: serve the API, manage the schema, load organisations.

Commands call use cases and the storage layer directly, never the HTTP API.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from alembic.util.exc import CommandError
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from memberbase.cli.banner import print_banner
from memberbase.cli.customers import customers_app
from memberbase.cli.errors import database_errors, err, fail
from memberbase.cli.errors import settings as _settings
from memberbase.cli.events import events_app
from memberbase.cli.importer import import_command
from memberbase.cli.staff import staff_app
from memberbase.observability import METRICS_DIR_ENV, configure_logging
from memberbase.settings import Settings
from memberbase.storage import json_repair, schema
from memberbase.storage.database import create_engine
from memberbase.usecases.load_orgs import DEMO_FILE, LoadReport, OrgFileError, load_orgs, read_org_file

app = typer.Typer(
    help="memberbase: a self-hosted loyalty customer registry speaking the hosted CRM's customer APIs.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Create, upgrade and check the database schema (Alembic migrations).")
orgs_app = typer.Typer(help="Load organisations from a YAML file (see docs/config.md).")
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(events_app, name="events")
app.add_typer(customers_app, name="customers")
app.add_typer(staff_app, name="staff")
app.command("import")(import_command)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Org YAML file (docs/config.md). Default: the built-in demo org."),
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///path.db (default ./memberbase.db) or postgresql://user@host:5432/db. "
        "Env: MEMBERBASE_DATABASE_URL.",
    ),
]


def _prepare(settings: Settings) -> tuple[LoadReport, Path]:
    """Upgrade the schema and load the org file; exit with a clear message when either fails."""
    path = settings.config or DEMO_FILE
    try:
        org_file = read_org_file(path)
        with database_errors(settings.database_url):
            schema.upgrade(settings.database_url)
            report = asyncio.run(_load(settings.database_url, org_file))
    except OrgFileError as exc:  # unreadable or invalid, or a till or client key another org holds
        fail(str(exc), 2)
    return report, path


async def _load(database_url: str, org_file: object) -> LoadReport:
    from memberbase.domain.org_config import OrgFile

    assert isinstance(org_file, OrgFile)
    engine = create_engine(database_url)
    try:
        return await load_orgs(engine, org_file)
    finally:
        await engine.dispose()


@app.command()
def serve(
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on. Env: MEMBERBASE_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on. Env: MEMBERBASE_PORT.")] = None,
    access_log: Annotated[bool, typer.Option(help="Log one line per request.")] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Server processes behind the one port (use --redis-url with more than one)."
        ),
    ] = 1,
    redis_url: Annotated[
        str | None,
        typer.Option(
            help="redis://host:6379/0 to share rate-limit counters between processes. "
            "Env: MEMBERBASE_REDIS_URL."
        ),
    ] = None,
    nats_url: Annotated[
        str | None,
        typer.Option(
            help="nats://127.0.0.1:4222 to deliver registration events to NATS JetStream from this "
            "server (one process publishes at a time). Env: MEMBERBASE_NATS_URL.",
        ),
    ] = None,
    worker_healthcheck_seconds: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=600,
            help="With --workers: seconds a worker may take to answer its supervisor, starting or "
            "serving, before it is replaced (default 30). Env: MEMBERBASE_WORKER_HEALTHCHECK_SECONDS.",
        ),
    ] = None,
) -> None:
    """Migrate the database, load the organisations, and serve the API."""
    import uvicorn

    from memberbase.app import create_app

    settings = _settings(
        config=config,
        database_url=database_url,
        host=host,
        port=port,
        redis_url=redis_url,
        access_log=access_log,
        nats_url=nats_url,
        worker_healthcheck_seconds=worker_healthcheck_seconds,
    )
    configure_logging()
    _check_secret_key(settings)
    report, path = _prepare(settings)
    _warn_about_connections(settings, workers)
    print_banner(settings, path, report, demo=settings.config is None)
    if workers == 1:
        uvicorn.run(create_app(settings), **_uvicorn_options(settings))
        return
    if settings.redis_url is None:
        err.print("[yellow]warning:[/yellow] without --redis-url each worker counts rate limits on its own")
    # Workers are new processes: they read their settings from the environment.
    for name, value in settings.model_dump(exclude_none=True).items():
        shown = value.get_secret_value() if isinstance(value, SecretStr) else value
        os.environ[f"MEMBERBASE_{name.upper()}"] = str(shown)
    _serve_workers(settings, workers)


def _warn_about_connections(settings: Settings, workers: int) -> None:
    """Warn when this server's pools may open more connections than PostgreSQL allows."""
    from memberbase.storage import capacity

    async def ask() -> capacity.ServerConnections | None:
        engine = create_engine(settings.database_url)
        try:
            return await capacity.server_connections(engine)
        finally:
            await engine.dispose()

    try:
        server = asyncio.run(ask())
    except (OSError, SQLAlchemyError):  # the limits are advice: never a reason not to start
        return
    problem = None if server is None else capacity.warning(server, workers, settings.db_pool_size)
    if problem is not None:
        err.print(f"[yellow]warning:[/yellow] {problem}")


def _check_secret_key(settings: Settings) -> None:
    """Refuse to start without a usable signing key (on PostgreSQL one must be given)."""
    from memberbase.auth.signing_keys import SecretKeyProblem, signing_keys

    try:
        signing_keys(settings)
    except SecretKeyProblem as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    from memberbase.http import head_limits

    # The limits of this process's connections; each worker sets its own (app_from_environment).
    head_limits.configure(settings.max_header_bytes, settings.max_headers)
    # Our middleware writes the access log as JSON lines; uvicorn's own is off.
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "http": head_limits.HeadLimitedProtocol,
        # uvicorn's default, 5 s, killed workers still starting on a loaded machine (4 of 6
        # two-worker starts at load 5.5), and each replacement started as slowly.
        "timeout_worker_healthcheck": settings.worker_healthcheck_seconds,
    }


def _serve_workers(settings: Settings, workers: int) -> None:
    import shutil
    import tempfile

    # Each worker keeps its metrics in files here (Prometheus multiprocess mode), so /metrics,
    # whichever worker answers it, reports all of them together. Set before any worker starts:
    # prometheus_client picks its value store when it is first imported.
    metrics_dir = tempfile.mkdtemp(prefix="memberbase-metrics-")
    os.environ[METRICS_DIR_ENV] = metrics_dir
    try:
        _run_workers(settings, workers)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_workers(settings: Settings, workers: int) -> None:
    import uvicorn

    from memberbase.cli.workers import PortInUse, SocketPerWorker, listening_sockets, spreads_connections

    target = "memberbase.app:app_from_environment"
    if not spreads_connections():
        uvicorn.run(target, factory=True, workers=workers, **_uvicorn_options(settings))
        return
    try:
        sockets = listening_sockets(settings.host, settings.port, workers)
    except PortInUse as exc:
        fail(exc.strerror or str(exc))
    config = uvicorn.Config(target, factory=True, workers=workers, **_uvicorn_options(settings))
    try:
        SocketPerWorker(config, sockets).run()
    finally:
        for sock in sockets:
            sock.close()


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOpt = None) -> None:
    """Create the schema or bring it to the newest migration."""
    settings = _settings(database_url=database_url)
    with database_errors(settings.database_url):
        schema.upgrade(settings.database_url)
    typer.echo(f"schema is up to date on {settings.database_url}")


@db_app.command("check")
def db_check(database_url: DatabaseOpt = None) -> None:
    """Fail when the tables in code and the migrations disagree (run after `db upgrade`)."""
    settings = _settings(database_url=database_url)
    with database_errors(settings.database_url):
        schema.upgrade(settings.database_url)
        try:
            schema.check(settings.database_url)
        except CommandError as exc:
            fail(f"tables and migrations disagree: {exc}")
    typer.echo("tables and migrations agree")


@db_app.command("repair")
def db_repair(
    apply: Annotated[bool, typer.Option("--apply", help="Mend the rows (default: only count them).")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Find customers whose free-form JSON breaks today's limits (stored before them); --apply mends them."""
    settings = _settings(database_url=database_url)

    with database_errors(settings.database_url):
        report = asyncio.run(_repair(settings.database_url, apply))
    sample = ", ".join(f"org {o} customer {c}" for o, c in report.sample)
    verb = "mended" if apply else "would mend (dry run; --apply mends)"
    typer.echo(f"scanned {report.scanned}; {verb} {report.found}" + (f": {sample}" if sample else ""))
    if report.still_bad:
        typer.echo(f"{report.still_bad} still exceed a count or depth limit after mending")


async def _repair(database_url: str, apply: bool) -> json_repair.RepairReport:
    def progress(report: json_repair.RepairReport) -> None:
        err.print(f"scanned {report.scanned} customers, {report.found} to mend")

    engine = create_engine(database_url)
    try:
        return await json_repair.repair(engine, apply=apply, progress=progress)
    finally:
        await engine.dispose()


@orgs_app.command("load")
def orgs_load(
    file: Annotated[Path, typer.Argument(help="Org YAML file (docs/config.md).")],
    database_url: DatabaseOpt = None,
) -> None:
    """Create or update the organisations in FILE. Customers are never deleted."""
    settings = _settings(config=file, database_url=database_url)
    report, _ = _prepare(settings)
    typer.echo(
        f"created {report.created or 'none'}, updated {report.updated or 'none'}, "
        f"unchanged {report.unchanged or 'none'}"
    )
