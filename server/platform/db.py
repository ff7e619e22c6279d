"""The database engine and units of work.

SQLite gets WAL, ``synchronous=FULL`` and foreign keys, and transactions we begin ourselves with
``BEGIN IMMEDIATE``, so that units of work wait for each other instead of failing on lock upgrade.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

IMMEDIATE = "sqlite_begin_immediate"
READ_ONLY = "samkonsult_read_only"
"""Execution option of read-only units of work: plain ``BEGIN`` on SQLite, ``READ ONLY`` on PostgreSQL."""


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling defers it and breaks IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Every unit of work may write (at least an audit row). In WAL mode a deferred transaction that
        # has read and then writes fails at once with SQLITE_BUSY_SNAPSHOT when another writer committed
        # in between, and the busy timeout cannot help. Taking the write lock at BEGIN makes concurrent
        # units of work wait their turn instead. The IMMEDIATE option still marks the units of work that
        # asked for the lock, so check-and-insert code can insist on it.
        # A read-only unit of work begins deferred: in WAL mode it reads a snapshot and never waits
        # for, nor holds up, a writer (the outbox and reminder jobs, bookings).
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_engine(url: str) -> AsyncEngine:
    """Create the async engine for a ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URL."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
    else:
        engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    return engine


class Database:
    """Owns the engine and hands out units of work (sessions that commit or roll back)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._immediate_sessions = async_sessionmaker(
            engine.execution_options(**{IMMEDIATE: True}), expire_on_commit=False
        )
        # PostgreSQL refuses any write in these (a read-only page that wrote would be a bug);
        # SQLite reads a snapshot without taking the write lock.
        read_only_options: dict[str, Any] = {READ_ONLY: True}
        if not self.is_sqlite:
            read_only_options["postgresql_readonly"] = True
        self._read_only_sessions = async_sessionmaker(
            engine.execution_options(**read_only_options), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self, *, write_lock: bool = False, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends normally, rolled back on an exception.

        ``write_lock`` takes SQLite's write lock at the start (``BEGIN IMMEDIATE``), for
        check-then-insert work such as bookings; it has no effect on PostgreSQL. ``read_only`` is for
        pages that only read: it never takes SQLite's write lock (so jobs and bookings go on meanwhile)
        and PostgreSQL refuses writes in it. Their audit rows are written after the read, see
        ``AuditLog.reading``.
        """
        if write_lock and read_only:
            raise ValueError("a unit of work cannot both read only and take the write lock")
        if read_only:
            maker = self._read_only_sessions
        else:
            maker = self._immediate_sessions if write_lock and self.is_sqlite else self._sessions
        async with maker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> bool:
        """True when the database answers."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "not ready"
            log.warning("database ping failed", exc_info=True)
            return False

    async def close(self) -> None:
        await self.engine.dispose()
