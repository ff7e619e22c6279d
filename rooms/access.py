"""Who may be in a consultation: the participant behind a staff actor or a guest session.

The call page and the WebSocket endpoint both ask this, so both admit exactly the same people. It
knows nothing of HTTP: the transport hands over who is calling (``Caller``), read from its own
session and cookies.
"""

from __future__ import annotations

from dataclasses import dataclass

from rooms.registry import BookingRoom, GuestAccess, LiveRegistry, guest_identity, staff_identity
from rooms.roster import Identity
from server.platform.actors import Actor
from server.platform.errors import AuthenticationFailed, PermissionDenied


@dataclass(frozen=True)
class Caller:
    """What a request brings: a logged-in staff actor, or else perhaps a guest session token."""

    actor: Actor | None
    guest_token: str | None


async def resolve_participant(
    registry: LiveRegistry, guests: GuestAccess, booking_id: str, caller: Caller
) -> tuple[BookingRoom, Identity]:
    """The booking and the caller's identity in it; refusals are domain errors (401, 403, 404)."""
    if caller.actor is not None:
        booking = await registry.booking(booking_id)
        return booking, staff_identity(booking, caller.actor)
    grant = await guests.grant(caller.guest_token)
    if grant is None:
        raise AuthenticationFailed("log in or use your join code first", code="authentication_required")
    # Compared before any lookup, so a guest cannot probe which other room ids exist.
    if grant.room_id != booking_id:
        raise PermissionDenied("your join code is for another consultation")
    booking = await registry.booking(booking_id)
    return booking, guest_identity(booking, grant)
