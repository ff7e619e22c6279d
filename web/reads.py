"""The unit of work of a handler that only reads: no write lock held, its audit rows written after."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.platform.appkeys import AUDIT, DATABASE


def reading(request: web.Request) -> AbstractAsyncContextManager[AsyncSession]:
    """A read-only unit of work for a page or API read; see ``AuditLog.reading``.

    Only for handlers that change nothing but the audit log: PostgreSQL refuses any other write in it.
    """
    return request.app[AUDIT].reading(request.app[DATABASE])
