"""Applying and checking migrations from code (``samkonsult migrate``), on SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from server.platform.db import create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def all_metadata() -> MetaData:
    """The metadata of every package's tables (imported here so each registers itself)."""
    import notes.models  # noqa: F401  (registers the note, version, signature and amendment tables)
    import rooms.models  # noqa: F401  (registers the join code and guest session tables)
    import scheduling.benefits.settings  # (registers the benefits report's settings table)
    import scheduling.models  # noqa: F401  (registers the scheduling tables)
    import server.recording_models  # noqa: F401  (registers the recordings table)
    from server.platform.model_base import Base

    return Base.metadata


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


def _diff(connection: Connection) -> list[Any]:
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(ctx, all_metadata()))


async def pending_model_changes(url: str) -> list[Any]:
    """Differences between the migrated database and the models (empty when they agree)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


def _revision(connection: Connection, message: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.revision(cfg, message=message, autogenerate=True)


async def make_revision(url: str, message: str) -> None:
    """Write a new migration from the difference between models and a migrated database."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_revision, message)
    finally:
        await engine.dispose()
