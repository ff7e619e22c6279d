"""Invites, cancellations and reminders for a booking, queued in the outbox.

What leaves the server is deliberately thin: a neutral title, the time, the health room's name and a
link to the consultation page (``{public_url}/consultations/{public id}``), never the reason, the type
of conversation, the patient's name or a join code. Staff and rooms get an iCalendar invite per
person (REQUEST, or CANCEL), with the booking's stable UID and its current SEQUENCE; the patient gets
a short SMS (the join code is handed out separately).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.availability import zone
from scheduling.errors import InvalidInvite
from scheduling.ical_invite import (
    AttendeeRole,
    CalendarUserType,
    InviteEvent,
    Party,
    build_cancel,
    build_request,
    make_uid,
)
from scheduling.models import Booking, BookingStatus, OutboxChannel, Reservation, Resource, ResourceKind
from scheduling.outbox import DeliverySummary, NewMessage, Outbox
from server.people.models import Patient, User
from server.platform.clock import Clock
from server.platform.local_time import OSLO_TZ_NAME

log = logging.getLogger(__name__)

SUMMARY = "Samkonsultasjon (video)"
# The purposes of the messages :meth:`Notifier.booking_changed` queues (reminders are not invitations).
INVITATION_PURPOSES = frozenset({"booked", "rescheduled", "cancelled"})


@dataclass(frozen=True)
class NotificationSettings:
    """Where links point, who organises, and when reminders go out."""

    public_url: str
    organizer_email: str = "samkonsult@localhost.localdomain"
    organizer_name: str = "Samkonsult"
    reminder_lead: timedelta = timedelta(hours=24)
    display_tz: str = OSLO_TZ_NAME

    @property
    def uid_domain(self) -> str:
        return urlsplit(self.public_url).hostname or "samkonsult.local"

    def consultation_url(self, public_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/consultations/{public_id}"

    @property
    def device_check_url(self) -> str:
        """The device and connection check, open to anyone without logging in."""
        return f"{self.public_url.rstrip('/')}/check"


@dataclass(frozen=True)
class _Recipient:
    party: Party | None  # None: not an attendee (the patient)
    channel: OutboxChannel
    address: str


def booking_uid(public_id: str, settings: NotificationSettings) -> str:
    """The iCalendar UID of a booking: fixed for its whole life."""
    return make_uid(public_id, settings.uid_domain)


class Notifier:
    """Turns booking changes into outbox messages, in the caller's transaction."""

    def __init__(self, clock: Clock, outbox: Outbox, settings: NotificationSettings) -> None:
        self._clock = clock
        self._outbox = outbox
        self.settings = settings

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(zone(self.settings.display_tz)).strftime("%d.%m.%Y kl. %H:%M")

    def _when(self, booking: Booking) -> str:
        end = booking.end.astimezone(zone(self.settings.display_tz)).strftime("%H:%M")
        return f"{self._local(booking.start)}–{end} (norsk tid / Norwegian time)"

    async def _people(self, session: AsyncSession, booking: Booking) -> tuple[list[_Recipient], str | None]:
        """Every participant who can be reached, and the room's name for LOCATION."""
        recipients: list[_Recipient] = []
        location: str | None = None
        rows = (await session.execute(
            select(Resource, User).join(Reservation, Reservation.resource_id == Resource.id)
            .outerjoin(User, User.id == Resource.user_id)
            .where(Reservation.booking_id == booking.id).order_by(Reservation.position))).all()
        for resource, user in rows:
            if resource.kind is ResourceKind.HEALTH_ROOM:
                location = resource.name
            email = user.email if user is not None and user.email else resource.email
            if not email:
                continue
            try:
                if resource.kind is ResourceKind.PERSON:
                    party = Party(email, user.display_name if user is not None else resource.name)
                else:
                    party = Party(email, resource.name, role=AttendeeRole.NON_PARTICIPANT, rsvp=False,
                                  cutype=CalendarUserType.ROOM if resource.kind is ResourceKind.HEALTH_ROOM
                                  else CalendarUserType.RESOURCE)
            except InvalidInvite:
                log.warning("resource %s has an unusable email address; no invite", resource.id)
                continue
            recipients.append(_Recipient(party, OutboxChannel.EMAIL, email))
        patient = await session.get(Patient, booking.patient_id)
        if patient is not None and patient.phone:
            recipients.append(_Recipient(None, OutboxChannel.SMS, patient.phone))
        return recipients, location

    def _event(self, booking: Booking, attendees: tuple[Party, ...], location: str | None) -> InviteEvent:
        return InviteEvent(
            uid=booking.ical_uid, sequence=booking.sequence, start=booking.start, end=booking.end,
            summary=SUMMARY, url=self.settings.consultation_url(booking.public_id),
            organizer=Party(self.settings.organizer_email, self.settings.organizer_name),
            attendees=attendees, location=location or "Video",
            cancelled=booking.status is BookingStatus.CANCELLED,
        )

    def feed_event(self, booking: Booking, location: str | None) -> InviteEvent:
        """The booking as a feed entry (no attendees)."""
        return self._event(booking, (), location)

    async def booking_changed(self, session: AsyncSession, booking: Booking, *, purpose: str) -> int:
        """Queue a REQUEST (booked, rescheduled) or CANCEL (cancelled) to every participant.

        ``purpose`` is ``booked``, ``rescheduled`` or ``cancelled``; returns the number of messages queued.
        """
        recipients, location = await self._people(session, booking)
        attendees = tuple(r.party for r in recipients if r.party is not None)
        event = self._event(booking, attendees, location)
        now = self._clock.now()
        cancelled = booking.status is BookingStatus.CANCELLED
        ics = build_cancel(event, dtstamp=now) if cancelled else build_request(event, dtstamp=now)
        method = "CANCEL" if cancelled else "REQUEST"
        url = self.settings.consultation_url(booking.public_id)
        when = self._when(booking)
        headline = {
            "booked": ("Invitasjon: samkonsultasjon", "Du er invitert til en samkonsultasjon"),
            "rescheduled": ("Endret tid: samkonsultasjon", "Samkonsultasjonen er flyttet til ny tid"),
            "cancelled": ("Avlyst: samkonsultasjon", "Samkonsultasjonen er avlyst"),
        }[purpose]
        count = 0
        for r in recipients:
            if r.channel is OutboxChannel.EMAIL:
                body = (f"{headline[1]}: {when}.\nSted: {location or 'video'}.\nLenke: {url}\n\n"
                        f"Joint consultation ({purpose}): {when}.\nLink: {url}\n")
                if not cancelled:
                    check = self.settings.device_check_url
                    body += (f"\nSjekk kamera, mikrofon og nettverk før samtalen: {check}\n"
                             f"Check your camera, microphone and network beforehand: {check}\n")
                await self._outbox.enqueue(session, NewMessage(
                    channel=r.channel, recipient=r.address, subject=f"{headline[0]} {self._local(booking.start)}",
                    body=body, ics=ics, ics_method=method, purpose=purpose, booking_id=booking.id))
            else:
                text = (f"{headline[1]}: {when}. Sted: {location or 'hjemme, på video'}. "
                        f"Koden for å delta får du separat.")
                await self._outbox.enqueue(session, NewMessage(
                    channel=r.channel, recipient=r.address, subject="", body=text, purpose=purpose,
                    booking_id=booking.id))
            count += 1
        return count

    async def delivery(self, session: AsyncSession, booking_id: int) -> DeliverySummary:
        """Where the latest invitation or cancellation to each recipient of the booking stands."""
        return await self._outbox.delivery(session, booking_id, purposes=INVITATION_PURPOSES)

    async def queue_due_reminders(self, session: AsyncSession) -> int:
        """Queue reminders for bookings starting within ``reminder_lead``; each booking is reminded once
        per time (a reschedule clears the mark). Returns the number of bookings reminded."""
        now = self._clock.now()
        due = (await session.execute(
            select(Booking).where(Booking.status == BookingStatus.BOOKED, Booking.reminder_queued_at.is_(None),
                                  Booking.start > now, Booking.start <= now + self.settings.reminder_lead)
            .order_by(Booking.start))).scalars().all()
        for booking in due:
            recipients, location = await self._people(session, booking)
            url = self.settings.consultation_url(booking.public_id)
            for r in recipients:
                text = f"Påminnelse: samkonsultasjon {self._when(booking)}. Sted: {location or 'video'}."
                if r.channel is OutboxChannel.EMAIL:
                    text += f"\nLenke: {url}\n\nReminder: joint consultation {self._when(booking)}.\n"
                await self._outbox.enqueue(session, NewMessage(
                    channel=r.channel, recipient=r.address,
                    subject=f"Påminnelse: samkonsultasjon {self._local(booking.start)}"
                    if r.channel is OutboxChannel.EMAIL else "",
                    body=text, purpose="reminder", booking_id=booking.id))
            booking.reminder_queued_at = now
        await session.flush()
        return len(due)
