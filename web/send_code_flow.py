"""Making a join code outside the call and sending it on: shared by the booking page and the API.

Who may: the staff booked into the consultation, the same people the call lets make codes
(``rooms.access``: only staff with a part in the booking get an identity in its room). The code is
made by the live side's ``JoinCodeService`` and the message queued by scheduling's outbox; this
module is where the two meet, as the call page's handlers do.

The plaintext code exists in the answer to the one who made it and in the message it sends; it is
never logged or audited here (the audit rows name the person, the role and a masked address).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from rooms.appkeys import JOIN_CODES, LIVE_REGISTRY
from rooms.join_codes import IssuedCode, JoinCodeRecord, format_code, normalize_code
from rooms.registry import BookingRoom, staff_identity
from rooms.roster import CODE_ROLES, MAX_NAME_CHARS, ParticipantRole, is_display_text
from scheduling.join_code_messages import (
    LANGUAGES,
    CodeInvitation,
    MessageLanguage,
    QueuedCode,
    parse_recipient,
)
from scheduling.models import OutboxChannel
from scheduling.outbox import MessageState
from server.people.patients import CLINICAL_ROLES
from server.platform.actors import Actor
from server.platform.appkeys import AUDIT, DATABASE, SETTINGS
from server.platform.errors import ValidationFailed
from web.appkeys import SCHEDULING
from web.guards import require_actor

CHANNELS = {"sms": OutboxChannel.SMS, "email": OutboxChannel.EMAIL}


def join_url(request: web.Request) -> str:
    """The plain ``/join`` address on the configured public URL: the code alone finds its room."""
    return f"{request.app[SETTINGS].public_url.rstrip('/')}/join"


async def inviting_staff(request: web.Request, booking_public_id: str) -> tuple[BookingRoom, Actor]:
    """The booking and the logged-in actor, who must take part in it; domain errors otherwise (404 for
    an unknown or cancelled booking and, alike, for staff not booked into it; 403 for a role that makes no codes)."""
    actor = require_actor(request, *CLINICAL_ROLES)
    booking = await request.app[LIVE_REGISTRY].booking(booking_public_id)
    staff_identity(booking, actor)  # NotFound for anyone the call would not let in as staff
    return booking, actor


def parse_invitee(name: str, role: str) -> tuple[str, ParticipantRole]:
    """The invited person's name and part, or ``ValidationFailed`` naming each bad field."""
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "required"
    elif len(name) > MAX_NAME_CHARS:
        errors["name"] = "invite_name_too_long"
    elif not is_display_text(name, MAX_NAME_CHARS):
        errors["name"] = "invite_name_invalid"
    parsed = next((r for r in CODE_ROLES if r.value == role), None)
    if parsed is None:
        errors["role"] = "invalid_choice"
    if errors or parsed is None:
        raise ValidationFailed("the invitation is not complete", errors)
    return name, parsed


def parse_language(raw: str) -> MessageLanguage:
    for lang in LANGUAGES:
        if raw == lang:
            return lang
    raise ValidationFailed("unknown language", {"language": "invalid_choice"})


def parse_channel(raw: str) -> OutboxChannel:
    channel = CHANNELS.get(raw)
    if channel is None:
        raise ValidationFailed("unknown channel", {"channel": "invalid_choice"})
    return channel


async def make_code(request: web.Request, booking_public_id: str, name: str, role: str) -> IssuedCode:
    """A new join code for one named person in the booking's consultation (audited without the code)."""
    booking, actor = await inviting_staff(request, booking_public_id)
    display_name, part = parse_invitee(name, role)
    issued = await request.app[JOIN_CODES].issue(
        room_id=booking.booking_id, role=part, display_name=display_name, starts_at=booking.starts_at,
        ends_at=booking.ends_at, created_by=actor.id)
    async with request.app[DATABASE].session(write_lock=True) as session:
        await request.app[AUDIT].record(session, actor, action="join_code_issued", object_type="consultation",
                                        object_id=booking.booking_id, patient_id=booking.patient_id,
                                        reason=f"{part.value}: {display_name}")
    return issued


@dataclass(frozen=True)
class SentCode:
    queued: QueuedCode
    record: JoinCodeRecord


async def send_code(request: web.Request, booking_public_id: str, *, code: str, channel: str, to: str,
                    language: str) -> SentCode:
    """Queue a code the caller holds to a phone or an e-mail address. The code must be one of this
    booking's codes, unused and not expired (looked up by its hash); everything typed is checked
    before anything is queued, and every bad field is named at once."""
    booking, actor = await inviting_staff(request, booking_public_id)
    errors: dict[str, str] = {}
    parsed_channel: OutboxChannel | None = None
    parsed_language: MessageLanguage | None = None
    address: str | None = None
    try:
        parsed_channel = parse_channel(channel)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        parsed_language = parse_language(language)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if parsed_channel is not None:
        try:
            address = parse_recipient(parsed_channel, to)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    try:
        record = await request.app[JOIN_CODES].sendable(code, room_id=booking.booking_id)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors or parsed_channel is None or parsed_language is None or address is None:
        raise ValidationFailed("the code cannot be sent as asked", errors)
    invitation = CodeInvitation(
        code=format_code(normalize_code(code) or ""), join_url=join_url(request), valid_from=record.valid_from,
        valid_until=record.valid_until, service_name=request.app[SETTINGS].service_name, language=parsed_language)
    async with request.app[DATABASE].session(write_lock=True) as session:
        queued = await request.app[SCHEDULING].join_code_messages.send(
            session, actor, booking.booking_id, invitation, parsed_channel, address)
    return SentCode(queued, record)


async def message_state(request: web.Request, booking_public_id: str, message_id: int) -> MessageState:
    """Where a code message of this booking stands (for the one who sent it, or their colleagues)."""
    await inviting_staff(request, booking_public_id)
    async with request.app[DATABASE].session() as session:
        return await request.app[SCHEDULING].join_code_messages.state(session, booking_public_id, message_id)

