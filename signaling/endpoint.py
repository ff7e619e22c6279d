"""The ``/ws`` endpoint (protocol v1): checks before the upgrade, then one reader and one writer task.

Before upgrading: the Origin must be ours and the caller a participant of the booking (staff session or
guest session), so a refused caller never gets a socket. After: frames go to a ``SignalingSession``;
what the server sends goes through the connection's bounded queue. aiohttp's heartbeat pings every
``HEARTBEAT`` seconds and drops a socket whose pong does not come back.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSMsgType, web

from rooms.appkeys import LIVE_REGISTRY
from server.platform.appkeys import CLOCK, SETTINGS
from server.platform.errors import PermissionDenied
from signaling.access import origin_allowed, participant_of
from signaling.appkeys import CONNECTIONS, MONOTONIC
from signaling.connection import Connection
from signaling.ice import ice_servers_for
from signaling.parser import MAX_FRAME_BYTES
from signaling.session import SignalingSession

log = logging.getLogger(__name__)

HEARTBEAT = 15.0
CLOSE_TIMEOUT = 3.0
"""Seconds to wait for the client's half of the closing handshake (after an oversize frame it never comes)."""


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    """Upgrade an authorised, same-origin request and run its signaling session."""
    settings = request.app[SETTINGS]
    if not origin_allowed(request, settings.public_url):
        log.warning("WebSocket from a foreign origin refused: %r", request.headers.get("Origin"))
        raise PermissionDenied("this origin may not open a consultation socket", code="forbidden_origin")
    booking, identity = await participant_of(request, request.query.get("room", ""))

    # No compression: small JSON frames gain little, and inflating is work a client could make us do.
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_FRAME_BYTES, timeout=CLOSE_TIMEOUT,
                               compress=False)
    await ws.prepare(request)
    now_unix = int(request.app[CLOCK].now().timestamp())
    ice = ice_servers_for(settings.ice_servers, settings.turn_secret, subject=identity.subject, now_unix=now_unix)
    connection = Connection(ws, ice_servers=ice)
    session = SignalingSession(
        connection, request.app[LIVE_REGISTRY], booking, identity, monotonic=request.app[MONOTONIC]
    )
    connections = request.app[CONNECTIONS]
    connections.add(connection)
    writer = asyncio.create_task(connection.run_writer())
    try:
        # The one reader of this socket: frames are handled in order, each to completion.
        async for message in ws:
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                await session.handle_frame(message.data)
            elif message.type is WSMsgType.ERROR:
                # Oversize frames end here: aiohttp has already closed with 1009 (the rest of such a frame
                # cannot be skipped without reading it all, which is what the limit is there to avoid).
                log.info("signaling socket error: %s", ws.exception())
    finally:
        session.detach()
        connection.close("released")
        await writer
        connections.discard(connection)
    return ws
