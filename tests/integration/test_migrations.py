"""Migrations and models agree, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from server.migrate import pending_model_changes, upgrade


async def test_models_match_migrations(database_url: str) -> None:
    # The fixture database was built by the migrations; the models must describe it exactly.
    assert await pending_model_changes(database_url) == []


async def test_upgrade_is_idempotent(database_url: str) -> None:
    await upgrade(database_url)
    assert await pending_model_changes(database_url) == []


async def test_outbox_rows_from_before_failure_codes_are_given_one(database_url: str) -> None:
    """Rows written when only English text said why a message was not sent keep explaining it."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.engine import Connection

    from server.migrate import alembic_config
    from server.platform.db import create_engine

    def downgrade(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0004_notes")

    old = {"no email gateway configured": "no_email_gateway", "no sms gateway configured": "no_sms_gateway",
           "SMTPConnectError: Error connecting to mail on port 25": "unreachable",
           "SMTPConnectTimeoutError: Timed out connecting to mail on port 25": "timeout",
           "SMTPRecipientsRefused: {'x@example.no': (550, 'no such user')}": "recipient_refused",
           "RuntimeError: something else": "delivery_failed", "": ""}
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
            for error in old:
                await conn.execute(text(
                    "INSERT INTO sched_outbox (channel, recipient, subject, body, ics_method, purpose, status,"
                    " attempts, next_attempt_at, last_error, created_at) VALUES ('email', 'x@example.no', '', '',"
                    " '', '', 'failed', 1, :now, :error, :now)"), {"error": error, "now": datetime(2026, 11, 1)})
    finally:
        await engine.dispose()
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = dict((await conn.execute(text("SELECT last_error, failure FROM sched_outbox"))).all())
    finally:
        await engine.dispose()
    assert rows == old
