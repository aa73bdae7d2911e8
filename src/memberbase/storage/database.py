"""Engines for the two supported stores: SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import json
import math
import re
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import asyncpg
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Select, TextClause
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import TextualSelect

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ALIASES = {"postgres": "postgresql"}


class UnsupportedDatabase(ValueError):
    pass


class DatabaseUnavailable(OSError):
    """The database cannot be opened; said before any connection is tried."""


def _check_sqlite_file(target: URL) -> None:
    """Refuse a SQLite file that cannot be opened before aiosqlite tries to: after a failed
    connect it stops its worker thread without waiting for it, and the thread may then report
    to an event loop that asyncio.run has closed, a thread traceback after the clean error."""
    database = target.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    path = Path(database)
    if path.is_dir():
        raise DatabaseUnavailable(f"unable to open database file: {path} is a directory")
    if not path.parent.is_dir():
        raise DatabaseUnavailable(f"unable to open database file: there is no directory {path.parent}")


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
    return json.loads(text, parse_int=_int_within_64_bits, parse_constant=_no_constant)


_INT64 = 2**63


def _int_within_64_bits(digits: str) -> int | float | None:
    # JSONB keeps `1e20` as the integer 100000000000000000000, which no response encoder
    # writes: a row stored so (before the door checked numbers) must stay readable. Past
    # 20 digits `int()` may even refuse (Python's 4,300-digit guard): go by float, and a
    # number past float's range reads as null.
    if len(digits) <= 20:
        value = int(digits)
        if -_INT64 <= value < _INT64:
            return value
    as_float = float(digits)
    return None if math.isinf(as_float) else as_float


def _no_constant(name: str) -> None:
    # NaN and Infinity are no JSON; a read answers null rather than fail on them.
    return None


def create_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        _check_sqlite_file(target)
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
        # The most recently used connection first: under a steady load the same few stay
        # busy and the rest rest, so that the server's app can let them go (idle_connections.py).
        pool_use_lifo=True,
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


Runnable = Select[Any] | TextualSelect | TextClause | UpdateBase
_SETTING = re.compile(r"^[a-z_]+=[a-z0-9_]+$")  # a planner setting and its value, no more
_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class _ForDriver:
    """A statement compiled for asyncpg: its SQL, its parameters in order, their processing."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        args = [params[name] for name in self.names]
        for position, process in self.processors:
            args[position] = process(args[position])
        return args


def _for_driver(statement: Runnable, column_keys: Sequence[str] | None = None) -> _ForDriver:
    compiled = statement.compile(dialect=_ASYNCPG, column_keys=list(column_keys or ()) or None)
    sql = str(compiled)
    if "POSTCOMPILE" in sql:
        raise ValueError("an expanding parameter cannot be compiled once; pass on_postgresql")
    names = tuple(compiled.positiontup or ())
    processors = []
    for position, name in enumerate(names):
        # What SQLAlchemy would do to the value: JSON columns are serialised here, say.
        process = compiled.binds[name].type.dialect_impl(_ASYNCPG).bind_processor(_ASYNCPG)
        if process is not None:
            processors.append((position, process))
    return _ForDriver(sql, names, tuple(processors))


def _driver_of(conn: AsyncConnection) -> Any | None:
    """The asyncpg connection under `conn` when a statement may run on it directly, else None.

    On a `reading` connection (autocommit) always; in a transaction once SQLAlchemy has
    begun it on the server (it does so lazily, with the transaction's first statement):
    the statement then runs in that transaction, or savepoint, as through SQLAlchemy.
    """
    sync = conn.sync_connection
    if sync is None or sync.invalidated or conn.dialect.name != "postgresql":
        # (invalidated: reaching the driver would reconnect, outside a greenlet)
        return None
    # The checked-out driver connection, read as an attribute: get_raw_connection()
    # would hop through a greenlet for it (16 µs a statement).
    driver = sync.connection.driver_connection
    if sync.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return driver
    if sync.in_transaction() and driver is not None and driver.is_in_transaction():
        return driver
    return None


def _as_sqlalchemy_error(exc: asyncpg.PostgresError, sql: str) -> sa_exc.DBAPIError:
    # As SQLAlchemy reports the same error, so callers handle one kind (a lost race is an
    # IntegrityError; `.orig.sqlstate` tells deadlocks and serialisation failures).
    if isinstance(exc, asyncpg.exceptions.IntegrityConstraintViolationError):
        return sa_exc.IntegrityError(sql, None, exc)
    return sa_exc.DBAPIError(sql, None, exc)


class Statement:
    """A hot statement, compiled once for asyncpg and run on the driver itself on PostgreSQL.

    SQLAlchemy's execution layer costs more CPU per statement than asyncpg's own (parameter
    processing, result wrapping, and a greenlet per call, each of which maps and unmaps a
    16 KiB frame stack): a registration runs a dozen statements, a lookup one. Where the
    driver may not be used directly (`_driver_of`), and on SQLite, the statement runs
    through SQLAlchemy as usual (on PostgreSQL, its PostgreSQL form: the two may differ in
    plan, not only in syntax). Rows come back as mappings either way.
    """

    def __init__(self, statement: Runnable, *, on_postgresql: Runnable | None = None) -> None:
        """`on_postgresql`: the same statement for the driver, where `statement` cannot be
        compiled once (an expanding IN list: `= ANY(:array)` there)."""
        self.statement = statement
        self._on_postgresql = on_postgresql if on_postgresql is not None else statement
        # INSERT and UPDATE name their columns by the parameters given: compiled per set of keys.
        self._by_keys = isinstance(self._on_postgresql, UpdateBase)
        self._compiled: dict[tuple[str, ...], _ForDriver] = {}
        if not self._by_keys:
            self._compiled[()] = _for_driver(self._on_postgresql)

    def _for(self, params: Mapping[str, Any]) -> _ForDriver:
        keys = tuple(params) if self._by_keys else ()
        found = self._compiled.get(keys)
        if found is None:
            found = self._compiled[keys] = _for_driver(self._on_postgresql, keys)
        return found

    def _portable(self, conn: AsyncConnection) -> Runnable:
        return self._on_postgresql if conn.dialect.name == "postgresql" else self.statement

    async def fetch(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
        driver = _driver_of(conn)
        if driver is None:
            result = await conn.execute(self._portable(conn), params)
            return cast(Sequence[Mapping[str, Any]], result.mappings().all())
        compiled = self._for(params)
        try:
            rows: Sequence[Mapping[str, Any]] = await driver.fetch(compiled.sql, *compiled.args(params))
        except asyncpg.PostgresError as exc:
            raise _as_sqlalchemy_error(exc, compiled.sql) from exc
        return rows

    async def fetch_planned(
        self, conn: AsyncConnection, params: Mapping[str, Any], settings: Mapping[str, str]
    ) -> Sequence[Mapping[str, Any]]:
        """`fetch`, planned under these PostgreSQL settings (`enable_bitmapscan: off`, say).

        On a `reading` connection only: the settings are local to a read-only transaction of
        the statement's own, begun with them in one round trip and committed in another. A
        connection that fails or is cancelled inside it is closed, never pooled mid-transaction.
        On SQLite there is nothing to set: `fetch`.
        """
        if conn.dialect.name != "postgresql":
            return await self.fetch(conn, params)
        driver = _driver_of(conn)
        if driver is None or driver.is_in_transaction():
            raise RuntimeError("planner settings need a transaction of their own: use a reading connection")
        begin = "; ".join(["BEGIN READ ONLY", *self._check_settings(settings)])
        try:
            await driver.execute(begin)
            rows = await self.fetch(conn, params)
            await driver.execute("COMMIT")
        except BaseException:
            if driver.is_in_transaction():
                await conn.invalidate()
            raise
        return rows

    @staticmethod
    def _check_settings(settings: Mapping[str, str]) -> list[str]:
        """SET LOCAL commands for `settings`, which are names and words, nothing to escape."""
        if not all(_SETTING.match(f"{k}={v}") for k, v in settings.items()):
            raise ValueError(f"not a setting: {settings!r}")
        return [f"SET LOCAL {k} = {v}" for k, v in settings.items()]

    async def execute(
        self, conn: AsyncConnection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        """Run it for one set of parameters, or for each of a list (rows to insert, say)."""
        listed = [params] if isinstance(params, Mapping) else params
        if not listed:
            return
        driver = _driver_of(conn)
        if driver is None:
            await conn.execute(self._portable(conn), params)
            return
        compiled = self._for(listed[0])
        try:
            if len(listed) == 1:
                await driver.execute(compiled.sql, *compiled.args(listed[0]))
            else:
                await driver.executemany(compiled.sql, [compiled.args(p) for p in listed])
        except asyncpg.PostgresError as exc:
            raise _as_sqlalchemy_error(exc, compiled.sql) from exc


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
