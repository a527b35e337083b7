"""Database engine, the declarative base with a naming convention, and the per-request session."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    DateTime,
    Dialect,
    MetaData,
    Select,
    TextualSelect,
    TypeDecorator,
    event,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from portal.kit.cache import ResidentCache, apply_committed, discard_pending

#: Constraint names that Alembic can find again (batch mode on SQLite needs them).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC timestamp on every database (SQLite would otherwise hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Base of every ORM model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 5,
    max_overflow: int = 5,
    pool_timeout: float = 10.0,
) -> AsyncEngine:
    """An async engine for ``url``.

    SQLite gets one connection for the whole process: every transaction then runs alone, so
    check-and-write steps cannot interleave and no ``database is locked`` error can reach a
    resident. Several processes on one SQLite file are not supported (use PostgreSQL).

    PostgreSQL gets ``pool_size`` + ``max_overflow`` connections at most (see ``Settings.db_pool_size``
    for the formula); a request that waits ``pool_timeout`` seconds for one gets 503 (portal.kit.errors).
    """
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        from portal.kit.sqlite_inline import inline_creator

        database = make_url(url).database or ":memory:"
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60, async_creator=inline_creator(database))
    else:
        # No ``pool_pre_ping``: it costs every request one more round trip. A connection the server
        # dropped fails its request with 503 and Retry-After (portal.kit.errors), and SQLAlchemy then
        # invalidates the whole pool, so after a restart of PostgreSQL only the requests already under
        # way fail; the next ones get fresh connections.
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


#: Connections left for everything but the portal's workers: migrations, psql, backups, monitoring.
OTHER_CLIENTS_RESERVE = 5


def connections_needed(workers: int, pool_size: int, max_overflow: int, *, listener: bool) -> int:
    """The most connections ``workers`` portal processes open: pool, overflow and the cache's LISTEN."""
    return workers * (pool_size + max_overflow + (1 if listener else 0))


def connection_budget(max_connections: int, superuser_reserved: int) -> int:
    """What the portal's workers may use of the server's ``max_connections``."""
    return max_connections - superuser_reserved - OTHER_CLIENTS_RESERVE


async def server_connection_limits(engine: AsyncEngine) -> tuple[int, int] | None:
    """PostgreSQL's ``max_connections`` and ``superuser_reserved_connections`` (None on SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    from sqlalchemy import text

    async with engine.connect() as connection:
        limit = int(await connection.scalar(text("SHOW max_connections")))
        reserved = int(await connection.scalar(text("SHOW superuser_reserved_connections")))
    return limit, reserved


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions of residents' read-only views: on PostgreSQL without ``BEGIN`` and ``COMMIT``.

    Under READ COMMITTED every statement takes its own snapshot even inside a transaction, so a
    transaction gives a read nothing but two more round trips. The only writes these requests make
    are single statements (a session's ``last_used_at``, an expired session's row), each atomic alone.
    SQLite's one in-process connection pays nothing for them and keeps its transactions.
    """
    if engine.dialect.name != "postgresql":
        return create_sessionmaker(engine)
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        autoflush=False,
        info={_DRIVER_READS: True},
    )


#: What :func:`read_rows` runs.
Read = Select[Any] | CompoundSelect[Any] | TextualSelect

#: ``session.info`` key of the sessions whose reads :func:`read_rows` may hand to the driver itself.
_DRIVER_READS = "driver_reads"
#: Statements compiled for the driver: id → (statement (kept alive), SQL, its parameters in order with
#: the values of those the statement holds itself, such as the 0 of ``coalesce(sum(…), 0)``).
_COMPILED: dict[int, tuple[Read, str, tuple[tuple[str, Any], ...]]] = {}
_GIVEN = object()

#: Called with the SQL and the arguments of every read :func:`read_rows` hands to the driver (which
#: SQLAlchemy's ``before_cursor_execute`` does not see): ``bench/cold_reads.py`` EXPLAINs them.
driver_read_listeners: list[Callable[[str, Sequence[Any]], None]] = []


def _compiled(statement: Read, dialect: Dialect) -> tuple[str, tuple[tuple[str, Any], ...]]:
    found = _COMPILED.get(id(statement))
    if found is None or found[0] is not statement:
        compiled = statement.compile(dialect=dialect)
        bound = compiled.params
        names = tuple(
            (name, _GIVEN if bound.get(name) is None else bound[name]) for name in compiled.positiontup or ()
        )
        found = (statement, str(compiled), names)
        _COMPILED[id(statement)] = found
    return found[1], found[2]


async def read_rows(
    session: AsyncSession, statement: Read, parameters: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of a read (a statement built once, at import) as tuples, on the request's session.

    On the read-only sessions of PostgreSQL (:func:`create_read_sessionmaker`: no transaction) the
    statement, compiled once, goes straight to asyncpg's prepared statement on the session's
    connection: SQLAlchemy's work per execution (cache key, execution context, result rows) cost a
    resident's first read more than the database did (``bench/cold_reads.py``). The parameters must
    need no conversion by SQLAlchemy types (ints, strings, dates); the columns come back as asyncpg
    gives them (aware UTC datetimes, Decimals), which is what the tables' types give too. Elsewhere
    (SQLite, transactions) SQLAlchemy executes it.
    """
    if not session.info.get(_DRIVER_READS):
        return (await session.execute(statement, parameters)).all()
    connection = await session.connection()
    sql, names = _compiled(statement, connection.dialect)
    arguments = [
        parameters[name] if value is _GIVEN or name in parameters else value for name, value in names
    ]
    for listener in driver_read_listeners:
        listener(sql, arguments)
    driver: Any = (await connection.get_raw_connection()).driver_connection
    try:
        rows: Sequence[Sequence[Any]] = await driver.fetch(sql, *arguments)
    except Exception:
        if driver.is_closed():
            # The server dropped the connection: let SQLAlchemy meet it, so that it renews the pool
            # as it does for its own statements (and raises its disconnect error: a 503).
            await connection.exec_driver_sql("SELECT 1")
        raise
    return rows


async def session_scope(
    maker: async_sessionmaker[AsyncSession], cache: ResidentCache | None = None
) -> AsyncIterator[AsyncSession]:
    """One session per request: commit at the end, roll back on any error (services only flush).

    Cache invalidations recorded during the request are applied once the commit has happened. A
    request answered from memory never touched the database: it has nothing to commit or close.
    """
    session = maker()
    try:
        yield session
    except BaseException:
        if session.in_transaction():
            await session.rollback()
        discard_pending(session)
        raise
    else:
        if session.in_transaction():
            await session.commit()
        if cache is not None:
            apply_committed(session, cache)
    finally:
        if session.in_transaction():
            await session.close()
