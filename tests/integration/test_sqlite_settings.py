"""The embedded database runs with WAL, full sync and foreign keys."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from server.platform.db import Database


async def test_sqlite_pragmas(db: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only")
    async with db.session() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        assert (await session.execute(text("PRAGMA synchronous"))).scalar_one() == 2  # FULL
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1


async def test_foreign_keys_enforced(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await session.execute(text(
                "INSERT INTO departments (organisation_id, name) VALUES (999, 'Nowhere')"))
