"""Typed app keys of the live consultation, shared by the call pages (web) and the socket (signaling).

Built in the composition root (server/app.py). The one module of a domain that names aiohttp, and only
for its typed application keys: nothing here handles a request.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from rooms.join_codes import JoinCodeService
from rooms.media.connection_check import ConnectionCheckService
from rooms.media_workers import MediaWorkerPool
from rooms.registry import BookingDirectory, GuestAccess, LiveRegistry
from server.platform.db import Database

BookingDirectoryFactory = Callable[[Database], BookingDirectory]
LIVE_REGISTRY = web.AppKey("live_registry", LiveRegistry)
JOIN_CODES = web.AppKey("join_codes", JoinCodeService)
GUEST_ACCESS = web.AppKey("guest_access", GuestAccess)
CONNECTION_CHECKS = web.AppKey("connection_checks", ConnectionCheckService)
# Only present when the media runs in worker processes (settings.media_workers > 0).
MEDIA_WORKERS = web.AppKey("media_workers", MediaWorkerPool)
# Tests may replace the directory (bookings the live side can see) before the app starts.
BOOKING_DIRECTORY_FACTORY: web.AppKey[BookingDirectoryFactory] = web.AppKey("booking_directory_factory")
