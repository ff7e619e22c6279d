"""Helpers shared by the scheduling services: permissions, the write-lock guard, public ids."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from server.platform.actors import Actor
from server.platform.db import IMMEDIATE
from server.platform.errors import PermissionDenied
from server.platform.roles import Role

CLINICAL_ROLES = (Role.COORDINATOR, Role.SPECIALIST, Role.NURSE)
ADMIN_ROLES = (Role.ADMIN, Role.COORDINATOR)


def new_public_id() -> str:
    """An unguessable identifier for URLs (96 bits)."""
    return secrets.token_urlsafe(12)


def require_roles(actor: Actor, *roles: Role, what: str) -> None:
    if not actor.has_role(*roles):
        raise PermissionDenied(f"not allowed to {what}")


async def require_write_lock(session: AsyncSession) -> None:
    """Refuse to check-and-insert on SQLite without ``BEGIN IMMEDIATE``.

    Without the lock two bookings could both pass the check before either inserts; PostgreSQL has the
    exclusion constraint as its guard, SQLite has only this.
    """
    connection = (await session.connection()).sync_connection
    if connection is None or (
            connection.dialect.name == "sqlite" and not connection.get_execution_options().get(IMMEDIATE)):
        raise RuntimeError("bookings must run in db.session(write_lock=True)")
