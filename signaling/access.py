"""Who is asking: the consultation participant behind a request, from the staff or the guest session.

Shared by the call page and the WebSocket endpoint, so both admit exactly the same people.
"""

from __future__ import annotations

from aiohttp import web

from rooms.registry import BookingRoom, guest_identity, staff_identity
from rooms.roster import Identity
from server.platform.errors import AuthenticationFailed, PermissionDenied
from signaling.appkeys import GUEST_ACCESS, LIVE_REGISTRY
from web.context import ctx

GUEST_COOKIE = "__Host-samkonsult-guest"


async def resolve_participant(request: web.Request, booking_id: str) -> tuple[BookingRoom, Identity]:
    """The booking and the caller's identity in it; refusals are domain errors (401, 403, 404)."""
    registry = request.app[LIVE_REGISTRY]
    actor = ctx(request).actor
    if actor is not None:
        booking = await registry.booking(booking_id)
        return booking, staff_identity(booking, actor)
    grant = await request.app[GUEST_ACCESS].grant(request.cookies.get(GUEST_COOKIE))
    if grant is None:
        raise AuthenticationFailed("log in or use your join code first", code="authentication_required")
    # Compared before any lookup, so a guest cannot probe which other room ids exist.
    if grant.room_id != booking_id:
        raise PermissionDenied("your join code is for another consultation")
    booking = await registry.booking(booking_id)
    return booking, guest_identity(booking, grant)


def origin_allowed(request: web.Request, public_url: str) -> bool:
    """Browsers always send Origin on a WebSocket; only our own page may open one with our cookies."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return origin in {public_url.rstrip("/"), f"{request.scheme}://{request.host}"}
