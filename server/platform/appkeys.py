"""Typed app keys of the platform's app-wide objects: settings, clock, database, audit log."""

from __future__ import annotations

from aiohttp import web

from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.db import Database
from server.platform.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)  # type: ignore[type-abstract]
DATABASE = web.AppKey("database", Database)
AUDIT = web.AppKey("audit", AuditLog)
