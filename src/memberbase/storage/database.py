"""Engines for the two supported stores: SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Select, TextClause
from sqlalchemy.sql.selectable import TextualSelect

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ALIASES = {"postgres": "postgresql"}


class UnsupportedDatabase(ValueError):
    pass


def async_url(url: str) -> URL:
    """Accept the URLs people write (`sqlite:///x.db`, `postgresql://…`) and pick the async driver."""
    parsed = make_url(url)
    backend = _ALIASES.get(parsed.get_backend_name(), parsed.get_backend_name())
    if backend not in _ASYNC_DRIVERS:
        raise UnsupportedDatabase(f"unsupported database {backend!r}: use a sqlite:/// or postgresql:// URL")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _json_loads(text: str) -> Any:
    # Most JSON columns hold an empty object or list (no custom fields, no channels); a
    # customer row carries three, and json.loads costs ten times a comparison for them.
    if text == "{}":
        return {}
    if text == "[]":
        return []
    return json.loads(text)


def create_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(
            target, echo=echo, connect_args={"timeout": 30}, json_deserializer=_json_loads
        )
        _fix_sqlite_transactions(engine)
        return engine
    engine = create_async_engine(
        target,
        echo=echo,
        json_deserializer=_json_loads,
        # Overflow connections are closed as they come back, so a pool smaller than the
        # requests in flight opens and closes a connection (TLS attempt, login, statements
        # prepared again) per burst: the pool holds the usual concurrency, overflow a burst.
        pool_size=pool_size,
        max_overflow=pool_size // 2,
        # asyncpg's statement cache is per connection; keep it (prepared statements are the point).
        connect_args={"server_settings": {"application_name": "memberbase"}},
    )
    _drop_closed_connections(engine)
    return engine


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads that need no transaction: each statement stands alone.

    It saves the BEGIN and ROLLBACK round trips a pooled connection otherwise costs,
    which on the hot paths (the login check of every call, lookups) is two of three.
    """
    autocommit = _AUTOCOMMIT.get(engine)
    if autocommit is None:
        # An engine sharing the pool whose connections start in autocommit: one greenlet
        # hop less per checkout than switching each connection (10 of 52 µs).
        autocommit = _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as conn:
        yield conn


_AUTOCOMMIT: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


Readable = Select[Any] | TextualSelect | TextClause
_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]


class ReadStatement:
    """A hot read, compiled once for asyncpg and run on the driver itself on PostgreSQL.

    SQLAlchemy's execution layer costs about 90 µs of CPU per statement on top of
    asyncpg's 35 (parameter processing, result wrapping, the greenlet hop): on a lookup,
    a quarter of the request. Only on `reading` connections (autocommit), where no
    transaction SQLAlchemy has begun could be bypassed; elsewhere, and on SQLite, the
    statement runs through SQLAlchemy as usual (on PostgreSQL, its PostgreSQL form: the
    two may differ in plan, not only in syntax). Rows come back as mappings either way.
    """

    def __init__(self, statement: Readable, *, on_postgresql: Readable | None = None) -> None:
        """`on_postgresql`: the same read for the driver, where `statement` cannot be compiled
        once (an expanding IN list: `= ANY(:array)` there)."""
        self.statement = statement
        for_driver = on_postgresql if on_postgresql is not None else statement
        self._on_postgresql = for_driver
        compiled = for_driver.compile(dialect=_ASYNCPG)
        self._sql = str(compiled)
        if "POSTCOMPILE" in self._sql:
            raise ValueError("an expanding parameter cannot be compiled once; pass on_postgresql")
        self._names = tuple(compiled.positiontup or ())

    async def fetch(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
        sync = conn.sync_connection
        if (
            sync is not None
            and not sync.invalidated  # else reaching the driver would reconnect, outside a greenlet
            and sync.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
            and conn.dialect.name == "postgresql"
        ):
            # The checked-out driver connection, read as an attribute: get_raw_connection()
            # would hop through a greenlet for it (16 µs a statement).
            driver = sync.connection.driver_connection
            assert driver is not None
            rows: Sequence[Mapping[str, Any]] = await driver.fetch(
                self._sql, *(params[name] for name in self._names)
            )
            return rows
        statement = self._on_postgresql if conn.dialect.name == "postgresql" else self.statement
        return cast(Sequence[Mapping[str, Any]], (await conn.execute(statement, params)).mappings().all())


def _drop_closed_connections(engine: AsyncEngine) -> None:
    """Replace a pooled connection the server closed (a restart) at checkout, for free.

    SQLAlchemy's pre-ping would cost a round trip per checkout, two per API call; asyncpg
    already knows when the server closed the socket.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this pooled connection")


def _fix_sqlite_transactions(engine: AsyncEngine) -> None:
    """The documented pysqlite fix: let SQLAlchemy emit BEGIN itself so SAVEPOINT works.

    BEGIN IMMEDIATE takes the write lock up front: two registrations of one mobile
    then queue instead of both reading "absent" and one failing at COMMIT.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
