"""Migrations and models agree, on SQLite and PostgreSQL."""

from __future__ import annotations

from server.migrate import pending_model_changes, upgrade


async def test_models_match_migrations(database_url: str) -> None:
    # The fixture database was built by the migrations; the models must describe it exactly.
    assert await pending_model_changes(database_url) == []


async def test_upgrade_is_idempotent(database_url: str) -> None:
    await upgrade(database_url)
    assert await pending_model_changes(database_url) == []
