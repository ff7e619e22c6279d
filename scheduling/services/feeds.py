"""Subscribable ``.ics`` feeds per person and per health room, behind revocable, unguessable tokens.

A token is 256 bits from ``secrets``; only its SHA-256 is stored, so a copy of the database does not
give anyone a working feed URL. A feed carries times, the room and the consultation link, never a
patient's name or the reason; its fetch is audited once per request (calendar apps poll every
15 minutes, and the feed holds no patient identity).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.ical_invite import build_feed
from scheduling.models import Booking, FeedToken, Reservation, Resource, ResourceKind
from scheduling.services.common import ADMIN_ROLES, CLINICAL_ROLES
from scheduling.services.notifications import Notifier
from scheduling.services.views import FeedTokenView, NewFeedToken
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.errors import NotFound, PermissionDenied

FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


FEED_ACTOR = Actor(kind="feed", id="feed", name="Kalenderabonnement", role="feed", organisation_id=None,
                   organisation_name="")


class FeedService:
    """Issues and revokes feed tokens and renders the feed of a token."""

    def __init__(self, clock: Clock, audit: AuditLog, notifier: Notifier) -> None:
        self._clock = clock
        self._audit = audit
        self._notifier = notifier

    async def _may_manage(self, session: AsyncSession, actor: Actor, resource: Resource) -> None:
        # a person manages their own feed; coordinators and admins manage everyone's (rooms included)
        if actor.has_role(*ADMIN_ROLES):
            return
        if actor.has_role(*CLINICAL_ROLES) and resource.user_id is not None and resource.user_id == actor.user_id:
            return
        raise PermissionDenied("not allowed to manage this feed")

    async def create_token(self, session: AsyncSession, actor: Actor, resource_id: int,
                           label: str = "") -> NewFeedToken:
        """A new token for a resource's feed; the token itself is returned once and never stored."""
        resource = await session.get(Resource, resource_id)
        if resource is None:
            raise NotFound("no such resource")
        await self._may_manage(session, actor, resource)
        token = secrets.token_urlsafe(32)
        row = FeedToken(resource_id=resource_id, token_hash=hash_token(token), label=label.strip()[:100],
                        created_by_user_id=actor.user_id, created_at=self._clock.now(), revoked_at=None)
        session.add(row)
        await session.flush()
        await self._audit.record(session, actor, action="create", object_type="feed_token", object_id=row.id)
        return NewFeedToken(id=row.id, resource_id=resource_id, token=token)

    async def list_tokens(self, session: AsyncSession, actor: Actor, resource_id: int) -> list[FeedTokenView]:
        resource = await session.get(Resource, resource_id)
        if resource is None:
            raise NotFound("no such resource")
        await self._may_manage(session, actor, resource)
        rows = (await session.execute(select(FeedToken).where(FeedToken.resource_id == resource_id)
                                      .order_by(FeedToken.id))).scalars().all()
        return [FeedTokenView(r.id, r.resource_id, r.label, r.created_at, r.revoked_at) for r in rows]

    async def revoke(self, session: AsyncSession, actor: Actor, token_id: int) -> None:
        """Revoke a token: its feed answers "not found" from now on."""
        row = await session.get(FeedToken, token_id)
        resource = await session.get(Resource, row.resource_id) if row is not None else None
        if row is None or resource is None:
            raise NotFound("no such feed token")
        await self._may_manage(session, actor, resource)
        if row.revoked_at is None:
            row.revoked_at = self._clock.now()
            await session.flush()
            await self._audit.record(session, actor, action="revoke", object_type="feed_token", object_id=row.id)

    async def feed(self, session: AsyncSession, token: str) -> bytes:
        """The ``.ics`` feed for ``token``; ``NotFound`` for an unknown or revoked token."""
        row = (await session.execute(select(FeedToken).where(
            FeedToken.token_hash == hash_token(token)))).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            raise NotFound("no such feed")
        resource = await session.get(Resource, row.resource_id)
        if resource is None or not resource.active:
            raise NotFound("no such feed")
        now = self._clock.now()
        bookings = (await session.execute(
            select(Booking).join(Reservation, Reservation.booking_id == Booking.id)
            .where(Reservation.resource_id == resource.id, Booking.start < now + FEED_FUTURE,
                   Booking.end > now - FEED_PAST)
            .order_by(Booking.start).distinct())).scalars().all()
        rooms = await self._room_names(session, [b.id for b in bookings])
        events = [self._notifier.feed_event(b, rooms.get(b.id)) for b in bookings]
        await self._audit.record(session, FEED_ACTOR, action="read", object_type="calendar_feed",
                                 object_id=row.id, reason=f"{len(events)} events")
        return build_feed(events, name=f"Samkonsult: {resource.name}", dtstamp=now)

    async def _room_names(self, session: AsyncSession, booking_ids: list[int]) -> dict[int, str]:
        if not booking_ids:
            return {}
        rows = (await session.execute(
            select(Reservation.booking_id, Resource.name).join(Resource, Resource.id == Reservation.resource_id)
            .where(Reservation.booking_id.in_(booking_ids), Resource.kind == ResourceKind.HEALTH_ROOM))).all()
        return {bid: name for bid, name in rows}
