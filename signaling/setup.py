"""Installing the signaling endpoint: the ``/ws`` route, its per-socket defaults, and closing sockets
on shutdown. The live services it uses are built by the composition root (``server/app.py``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import WSCloseCode, web

from rooms.access import Caller
from rooms.appkeys import LIVE_REGISTRY
from signaling.appkeys import CALLER, CONNECTIONS, MONOTONIC
from signaling.connection import Connection
from signaling.endpoint import websocket_handler

log = logging.getLogger(__name__)


def setup_signaling(app: web.Application, *, caller: Callable[[web.Request], Caller]) -> None:
    """Route ``/ws`` and close its sockets on shutdown; ``caller`` reads who a request comes from.

    Tests may replace ``app[MONOTONIC]`` before the app starts.
    """
    app[CALLER] = caller
    app[MONOTONIC] = time.monotonic
    app[CONNECTIONS] = set()
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/ws", websocket_handler)


async def _close_sockets(app: web.Application) -> None:
    # Rooms first (everyone is told the consultation ended and peer connections close), then any socket
    # that had not joined a room yet. Closing the registry is idempotent; its cleanup context closes it
    # again when the app stops.
    await app[LIVE_REGISTRY].close()
    connections: set[Connection] = app[CONNECTIONS]
    for connection in list(connections):
        if not connection.ws.closed:
            await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
