"""Typed app keys of the live side (the registry, join codes, guest access, open sockets)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from rooms.join_codes import JoinCodeService
from rooms.registry import BookingDirectory, GuestAccess, LiveRegistry
from server.platform.db import Database
from signaling.connection import Connection

BookingDirectoryFactory = Callable[[Database], BookingDirectory]

LIVE_REGISTRY = web.AppKey("live_registry", LiveRegistry)
JOIN_CODES = web.AppKey("join_codes", JoinCodeService)
GUEST_ACCESS = web.AppKey("guest_access", GuestAccess)
BOOKING_DIRECTORY_FACTORY: web.AppKey[BookingDirectoryFactory] = web.AppKey("booking_directory_factory")
CONNECTIONS: web.AppKey[set[Connection]] = web.AppKey("signaling_connections")
# Monotonic seconds for per-socket rate limits: time.monotonic in production, a fake in tests.
MONOTONIC: web.AppKey[Callable[[], float]] = web.AppKey("signaling_monotonic")
