"""Checks before a socket is opened: the Origin, and the participant behind the request."""

from __future__ import annotations

from aiohttp import web

from rooms.access import resolve_participant
from rooms.appkeys import GUEST_ACCESS, LIVE_REGISTRY
from rooms.registry import BookingRoom
from rooms.roster import Identity
from signaling.appkeys import CALLER


async def participant_of(request: web.Request, booking_id: str) -> tuple[BookingRoom, Identity]:
    """The booking and the caller's identity in it, exactly as the call page resolves them."""
    app = request.app
    return await resolve_participant(app[LIVE_REGISTRY], app[GUEST_ACCESS], booking_id, app[CALLER](request))


def origin_allowed(request: web.Request, public_url: str) -> bool:
    """Browsers always send Origin on a WebSocket; only our own page may open one with our cookies."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return origin in {public_url.rstrip("/"), f"{request.scheme}://{request.host}"}
