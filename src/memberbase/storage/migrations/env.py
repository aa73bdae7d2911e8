"""Alembic environment: runs migrations over the same async engines the service uses."""

from __future__ import annotations

import asyncio
import warnings

from alembic import context
from sqlalchemy.engine import Connection

from memberbase.storage.database import create_engine
from memberbase.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    with warnings.catch_warnings():
        if connection.dialect.name == "sqlite":
            # SQLite's reflection cannot read expression indexes (the search's, 0010), so its
            # check skips them and says so; PostgreSQL's check compares them.
            warnings.filterwarnings("ignore", message=".*expression-based index")
        _configure_and_run(connection)


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("memberbase migrations run online only: use `memberbase db upgrade`")
asyncio.run(_run_online())
