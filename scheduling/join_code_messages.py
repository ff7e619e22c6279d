"""A join code sent to a relative, patient or interpreter by SMS or e-mail, through the outbox.

Why the message says so little: a text message or an e-mail leaves our hands. It sits on a phone's
lock screen, in a shared family inbox, at the phone operator and the mail provider, and a mistyped
number sends it to a stranger. So it holds only what the person needs to come in: the plain ``/join``
link, the code, when the code works, and the name of the health service that invites. Never the
patient's name (not even when the patient is the one invited: the message does not greet anyone by
name), no diagnosis or reason, no kind of consultation and no department or ward, since "the cancer
ward invites you" is health data too.

The code itself is the only secret in the message; the outbox keeps it only until the message is
sent (``scheduling.outbox``), and the audit log records who sent a code where, with the address
masked, never the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from babel.dates import format_date, format_time
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Booking, OutboxChannel
from scheduling.outbox import JOIN_CODE_PURPOSE, MessageState, NewMessage, Outbox
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.errors import NotFound, ValidationFailed
from server.platform.local_time import OSLO

MessageLanguage = Literal["nb", "en"]
LANGUAGES: tuple[MessageLanguage, ...] = ("nb", "en")

# Norwegian mobile numbers: 8 digits beginning with 4 or 9, optionally after +47 or 0047.
_MOBILE = re.compile(r"^(?:\+47|0047)?([49]\d{7})$")
_SPACES = str.maketrans("", "", " \u00a0\t-")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
MAX_EMAIL = 254
MAX_ADDRESS_INPUT = 300  # anything longer is no address; refused before any work on it


def parse_mobile(raw: str) -> str:
    """A Norwegian mobile number as ``+47XXXXXXXX``; spaces (and dashes) between digits are fine."""
    match = _MOBILE.match(raw[:MAX_ADDRESS_INPUT].translate(_SPACES))
    if match is None:
        raise ValidationFailed("not a Norwegian mobile number", {"to": "mobile_invalid"})
    return "+47" + match.group(1)


def parse_email(raw: str) -> str:
    """An e-mail address, trimmed; refused when it cannot be one."""
    address = raw[:MAX_ADDRESS_INPUT].strip()
    if len(address) > MAX_EMAIL or not _EMAIL.match(address):
        raise ValidationFailed("not an e-mail address", {"to": "email_invalid"})
    return address


def parse_recipient(channel: OutboxChannel, raw: str) -> str:
    """The normalised address for the channel, or ``ValidationFailed`` on the field ``to``."""
    return parse_mobile(raw) if channel is OutboxChannel.SMS else parse_email(raw)


def mask_address(channel: OutboxChannel, address: str) -> str:
    """What the audit log and the confirmation show: enough to tell two addresses apart, not to use one.
    ``+47 *** ** 123`` and ``k***@eksempel.no``."""
    if channel is OutboxChannel.SMS:
        return f"+47 *** ** {address[-3:]}"
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


_DAY = {"nb": "EEEE d. MMMM", "en": "EEEE d MMMM"}
_CLOCK = {"nb": "HH.mm", "en": "HH:mm"}
_LOCALE = {"nb": "nb_NO", "en": "en_GB"}


def _day(moment: datetime, lang: MessageLanguage) -> str:
    return format_date(moment.astimezone(OSLO).date(), _DAY[lang], locale=_LOCALE[lang])


def _clock(moment: datetime, lang: MessageLanguage) -> str:
    return format_time(moment.astimezone(OSLO).time(), _CLOCK[lang], locale=_LOCALE[lang])


def validity_text(valid_from: datetime, valid_until: datetime, lang: MessageLanguage) -> str:
    """When a code works, the way people say it: "fra tirsdag 1. desember kl. 11.00 til kl. 12.30"."""
    same_day = valid_from.astimezone(OSLO).date() == valid_until.astimezone(OSLO).date()
    start_day, start, end = _day(valid_from, lang), _clock(valid_from, lang), _clock(valid_until, lang)
    if lang == "en":
        until = end if same_day else f"{_day(valid_until, lang)} at {end}"
        return f"from {start_day} at {start} until {until} (Norwegian time)"
    until = f"kl. {end}" if same_day else f"{_day(valid_until, lang)} kl. {end}"
    return f"fra {start_day} kl. {start} til {until}"


@dataclass(frozen=True)
class CodeInvitation:
    """What goes into the message, and nothing else (see the module's docstring for why)."""

    code: str
    join_url: str
    valid_from: datetime
    valid_until: datetime
    service_name: str
    language: MessageLanguage = "nb"

    def sms_text(self) -> str:
        when = validity_text(self.valid_from, self.valid_until, self.language)
        if self.language == "en":
            return (f"{self.service_name}: You are invited to a video consultation. Open {self.join_url} "
                    f"and type the code {self.code}. The code works {when}, once.")
        return (f"{self.service_name}: Du er invitert til en videokonsultasjon. Gå til {self.join_url} "
                f"og skriv inn koden {self.code}. Koden virker {when}, én gang.")

    def email_subject(self) -> str:
        if self.language == "en":
            return f"Your code for a video consultation ({self.service_name})"
        return f"Koden din til videokonsultasjon ({self.service_name})"

    def email_text(self) -> str:
        when = validity_text(self.valid_from, self.valid_until, self.language)
        if self.language == "en":
            return (f"Hello,\n\nYou are invited to a video consultation with {self.service_name}.\n\n"
                    f"1. Open {self.join_url}\n2. Type the code: {self.code}\n\n"
                    f"The code works {when}, and only once. You need no account and nothing to install: "
                    f"a browser on your phone or computer is enough.\n\n"
                    f"Do not share the code with anyone else. This message cannot be answered.\n")
        return (f"Hei!\n\nDu er invitert til en videokonsultasjon med {self.service_name}.\n\n"
                f"1. Gå til {self.join_url}\n2. Skriv inn koden: {self.code}\n\n"
                f"Koden virker {when}, og bare én gang. Du trenger ingen konto og ikke laste ned noe: "
                f"nettleseren på mobilen eller datamaskinen holder.\n\n"
                f"Ikke del koden med andre. Denne meldingen kan ikke besvares.\n")


@dataclass(frozen=True)
class QueuedCode:
    """A code message in the outbox: its id (to ask later where it stands), where it goes (masked) and
    where it stands now."""

    message_id: int
    channel: OutboxChannel
    masked_recipient: str
    state: MessageState


class JoinCodeMessenger:
    """Queues join code messages for a booking and tells where they stand."""

    def __init__(self, clock: Clock, audit: AuditLog, outbox: Outbox) -> None:
        self._clock = clock
        self._audit = audit
        self._outbox = outbox

    async def _booking(self, session: AsyncSession, booking_public_id: str) -> Booking:
        booking = (await session.execute(
            select(Booking).where(Booking.public_id == booking_public_id))).scalar_one_or_none()
        if booking is None:
            raise NotFound("no such consultation")
        return booking

    async def send(self, session: AsyncSession, actor: Actor, booking_public_id: str, invitation: CodeInvitation,
                   channel: OutboxChannel, recipient: str) -> QueuedCode:
        """Queue ``invitation`` to ``recipient`` (already parsed with :func:`parse_recipient`) in the
        caller's transaction, and audit who sent a code where. The caller has checked that the actor
        may invite to this booking and that the code is one of its valid codes."""
        booking = await self._booking(session, booking_public_id)
        if channel is OutboxChannel.SMS:
            message = NewMessage(channel=channel, recipient=recipient, subject="", body=invitation.sms_text(),
                                 purpose=JOIN_CODE_PURPOSE, booking_id=booking.id)
        else:
            message = NewMessage(channel=channel, recipient=recipient, subject=invitation.email_subject(),
                                 body=invitation.email_text(), purpose=JOIN_CODE_PURPOSE, booking_id=booking.id)
        message_id = await self._outbox.enqueue(session, message)
        masked = mask_address(channel, recipient)
        await self._audit.record(session, actor, action="join_code_sent", object_type="consultation",
                                 object_id=booking_public_id, patient_id=booking.patient_id,
                                 reason=f"{channel.value}: {masked}")
        state = await self._outbox.state(session, message_id, booking_id=booking.id)
        return QueuedCode(message_id, channel, masked, state)

    async def state(self, session: AsyncSession, booking_public_id: str, message_id: int) -> MessageState:
        """Where a code message of this booking stands now."""
        booking = await self._booking(session, booking_public_id)
        return await self._outbox.state(session, message_id, booking_id=booking.id)
