"""Wiring the live consultation into the app: services in a cleanup context, sockets closed on shutdown."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, web

from rooms.join_codes import JoinCodeService
from rooms.models import GuestSessionStore, SqlJoinCodeRepository
from rooms.registry import GuestAccess, LiveRegistry
from server.booking_directory import SqlBookingDirectory
from server.platform.appkeys import AUDIT, CLOCK, DATABASE
from signaling.appkeys import (
    BOOKING_DIRECTORY_FACTORY,
    CONNECTIONS,
    GUEST_ACCESS,
    JOIN_CODES,
    LIVE_REGISTRY,
    MONOTONIC,
)
from signaling.connection import Connection
from signaling.endpoint import websocket_handler

log = logging.getLogger(__name__)


def setup_live(app: web.Application) -> None:
    """Install the live side: ``/ws``, its services (at start-up) and their shutdown.

    Tests may replace ``app[BOOKING_DIRECTORY_FACTORY]`` and ``app[MONOTONIC]`` before the app starts.
    """
    app[BOOKING_DIRECTORY_FACTORY] = SqlBookingDirectory
    app[MONOTONIC] = time.monotonic
    app[CONNECTIONS] = set()
    app.cleanup_ctx.append(_live_context)
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/ws", websocket_handler)


async def _live_context(app: web.Application) -> AsyncIterator[None]:
    database, clock = app[DATABASE], app[CLOCK]
    codes = JoinCodeService(SqlJoinCodeRepository(database), clock=clock)
    registry = LiveRegistry(
        app[BOOKING_DIRECTORY_FACTORY](database), database=database, audit=app[AUDIT], clock=clock, join_codes=codes
    )
    app[JOIN_CODES] = codes
    app[LIVE_REGISTRY] = registry
    app[GUEST_ACCESS] = GuestAccess(registry, codes, GuestSessionStore(database, clock), clock)
    registry.start()
    yield
    await registry.close()


async def _close_sockets(app: web.Application) -> None:
    # Rooms first (everyone is told the consultation ended and peer connections close), then any socket
    # that had not joined a room yet.
    await app[LIVE_REGISTRY].close()
    connections: set[Connection] = app[CONNECTIONS]
    for connection in list(connections):
        if not connection.ws.closed:
            await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
