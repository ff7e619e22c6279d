"""The notification outbox: messages are written in the transaction that caused them and sent later.

Writing first and sending afterwards is what makes "a down mail server loses nothing" true: the row
exists as soon as the booking does, and the dispatcher retries it with exponential backoff until it is
sent or ``max_attempts`` is reached (then ``failed``, visible to staff, and requeueable).

SMS goes through the same table. With no SMS gateway configured, SMS rows are set to ``no_gateway``:
visible in the outbox so staff can phone or text the patient themselves, and never reported as sent.
Email with no SMTP host configured is treated the same way.

A join code travels in a message body (``JOIN_CODE_PURPOSE``): it has to, the dispatcher sends later.
It is the only secret the outbox carries, so it is kept no longer than needed: once the message is
sent the code in the stored body is replaced by dashes, and staff reading the outbox never see it.

Why a message was not sent is stored as a code (``failure``, one of :data:`FAILURES`) that the web layer
words in the reader's language; the exception's own text goes to ``last_error`` and the log, for operators.

One dispatcher per database is assumed (the single process). Claiming a row pushes its
``next_attempt_at`` ahead by a lease first, so a crash mid-send retries later instead of never.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import OutboxChannel, OutboxMessage, OutboxStatus
from server.platform.clock import Clock
from server.platform.db import Database
from server.platform.errors import NotFound

log = logging.getLogger(__name__)

JOIN_CODE_PURPOSE = "join_code"
# A join code as written in messages (ABCD-EFGH-JKMN-PQRS; the alphabet has no 0, 1, I, L or O). The
# shape is enough: it is only used to hide codes, and hiding something that merely looks like one is
# harmless.
_CODE_SHAPE = re.compile(r"\b[2-9A-HJKMNP-Z]{4}(?:-[2-9A-HJKMNP-Z]{4}){3}\b")
HIDDEN_CODE = "XXXX-XXXX-XXXX-XXXX"


def hide_join_codes(text: str) -> str:
    """``text`` with every join code replaced by a placeholder of the same shape."""
    return _CODE_SHAPE.sub(HIDDEN_CODE, text)


class MessageState(enum.StrEnum):
    """Where one message stands, as the person who queued it is told."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    NO_GATEWAY = "no_gateway"


NO_EMAIL_GATEWAY = "no_email_gateway"
NO_SMS_GATEWAY = "no_sms_gateway"
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
RECIPIENT_REFUSED = "recipient_refused"
AUTHENTICATION = "authentication"
REFUSED = "refused"
DELIVERY_FAILED = "delivery_failed"
FAILURES = frozenset({NO_EMAIL_GATEWAY, NO_SMS_GATEWAY, UNREACHABLE, TIMEOUT, RECIPIENT_REFUSED, AUTHENTICATION,
                      REFUSED, DELIVERY_FAILED})
"""Every reason a message can have for not being sent (``OutboxMessage.failure``)."""


def no_gateway_failure(channel: OutboxChannel) -> str:
    """The failure code of a message on a channel nobody can deliver on."""
    return NO_EMAIL_GATEWAY if channel is OutboxChannel.EMAIL else NO_SMS_GATEWAY


def failure_code(exc: BaseException) -> str:
    """Why a send failed, as one of :data:`FAILURES`; the order matters, since a timeout is also a
    connection error and a refused recipient also a refusal."""
    if isinstance(exc, (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPRecipientRefused)):
        return RECIPIENT_REFUSED
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return AUTHENTICATION
    if isinstance(exc, TimeoutError):
        return TIMEOUT
    if isinstance(exc, OSError):  # refused or dropped connection, unknown host
        return UNREACHABLE
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return REFUSED
    return DELIVERY_FAILED


@dataclass(frozen=True)
class OutboxView:
    """A queued message as staff see it in the outbox."""

    id: int
    channel: OutboxChannel
    recipient: str
    subject: str
    body: str
    ics_method: str
    purpose: str
    booking_id: int | None
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    failure: str
    """Why the last attempt failed, one of :data:`FAILURES`, or "" (people see this, worded)."""
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class DeliverySummary:
    """How many recipients' latest message stands where: waiting to be sent, sent, given up after
    retries, or waiting for a gateway that is not configured (by channel: they must be reached
    another way)."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    no_email_gateway: int = 0
    no_sms_gateway: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.sent + self.failed + self.no_email_gateway + self.no_sms_gateway


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server. ``use_tls`` is implicit TLS (port 465), ``start_tls`` upgrades."""

    host: str
    port: int = 25
    use_tls: bool = False
    start_tls: bool = False
    username: str = ""
    password: str = ""
    sender: str = "samkonsult@localhost"
    timeout_seconds: float = 20.0


@dataclass(frozen=True)
class NewMessage:
    """A message to queue. ``ics`` (with ``ics_method``) goes along as a ``text/calendar`` part."""

    channel: OutboxChannel
    recipient: str
    subject: str
    body: str
    ics: bytes | None = None
    ics_method: str = ""
    purpose: str = ""
    booking_id: int | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """A claimed message handed to a sender."""

    id: int
    channel: OutboxChannel
    recipient: str
    subject: str
    body: str
    ics: bytes | None
    ics_method: str


class MessageSender(Protocol):
    """Delivers one message or raises; an exception means "try again later"."""

    async def send(self, message: OutgoingMessage) -> None: ...


class SmtpEmailSender:
    """Sends email with aiosmtplib; an invite travels as a ``text/calendar; method=...`` alternative."""

    def __init__(self, settings: SmtpSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock

    def build(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._settings.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = format_datetime(self._clock.now())
        email["Message-ID"] = make_msgid(domain=self._settings.sender.partition("@")[2] or "localhost")
        email.set_content(message.body)
        if message.ics is not None:
            # an alternative part (not an attachment) is what mail clients show as an invitation
            email.add_alternative(message.ics.decode("utf-8"), subtype="calendar",
                                  params={"method": message.ics_method or "PUBLISH"})
        return email

    async def send(self, message: OutgoingMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            self.build(message), hostname=s.host, port=s.port, use_tls=s.use_tls, start_tls=s.start_tls,
            username=s.username or None, password=s.password or None, timeout=s.timeout_seconds,
        )


@dataclass(frozen=True)
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    no_gateway: int = 0


def _view(m: OutboxMessage) -> OutboxView:
    body = hide_join_codes(m.body) if m.purpose == JOIN_CODE_PURPOSE else m.body
    return OutboxView(id=m.id, channel=m.channel, recipient=m.recipient, subject=m.subject, body=body,
                      ics_method=m.ics_method, purpose=m.purpose, booking_id=m.booking_id, status=m.status,
                      attempts=m.attempts, next_attempt_at=m.next_attempt_at, last_error=m.last_error,
                      failure=m.failure, created_at=m.created_at, sent_at=m.sent_at)


class Outbox:
    """Queues messages inside the caller's unit of work and lists them for staff.

    ``gateways`` are the channels the dispatcher can deliver on (the composition root knows): a
    pending message on any other channel is reported as waiting for a gateway, not as on its way."""

    def __init__(self, clock: Clock, gateways: frozenset[OutboxChannel] = frozenset()) -> None:
        self._clock = clock
        self._gateways = gateways

    async def enqueue(self, session: AsyncSession, message: NewMessage) -> int:
        now = self._clock.now()
        row = OutboxMessage(
            channel=message.channel, recipient=message.recipient, subject=message.subject[:300],
            body=message.body, ics=message.ics, ics_method=message.ics_method, purpose=message.purpose,
            booking_id=message.booking_id, status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now,
            last_error="", failure="", created_at=now, sent_at=None,
        )
        session.add(row)
        await session.flush()
        return row.id

    async def list_messages(self, session: AsyncSession, *, status: OutboxStatus | None = None,
                            booking_id: int | None = None, limit: int = 200) -> list[OutboxView]:
        """Messages newest first; staff see ``no_gateway`` and ``failed`` ones here."""
        stmt = select(OutboxMessage)
        if status is not None:
            stmt = stmt.where(OutboxMessage.status == status)
        if booking_id is not None:
            stmt = stmt.where(OutboxMessage.booking_id == booking_id)
        rows = (await session.execute(stmt.order_by(OutboxMessage.id.desc()).limit(limit))).scalars().all()
        return [_view(m) for m in rows]

    async def delivery(self, session: AsyncSession, booking_id: int, *,
                       purposes: frozenset[str]) -> DeliverySummary:
        """Where the newest message of the given purposes to each recipient of a booking stands."""
        rows = (await session.execute(
            select(OutboxMessage.channel, OutboxMessage.recipient, OutboxMessage.status)
            .where(OutboxMessage.booking_id == booking_id, OutboxMessage.purpose.in_(purposes))
            .order_by(OutboxMessage.id))).all()
        latest: dict[tuple[OutboxChannel, str], OutboxStatus] = {}
        for channel, recipient, status in rows:
            latest[(channel, recipient)] = status  # ordered by id: the last one wins
        counts = {"queued": 0, "sent": 0, "failed": 0, "no_email_gateway": 0, "no_sms_gateway": 0}
        for (channel, _recipient), status in latest.items():
            if status is OutboxStatus.NO_GATEWAY or (
                    status is OutboxStatus.PENDING and channel not in self._gateways):
                counts["no_email_gateway" if channel is OutboxChannel.EMAIL else "no_sms_gateway"] += 1
            elif status is OutboxStatus.PENDING:
                counts["queued"] += 1
            elif status is OutboxStatus.SENT:
                counts["sent"] += 1
            else:
                counts["failed"] += 1
        return DeliverySummary(**counts)

    async def state(self, session: AsyncSession, message_id: int, *, booking_id: int) -> MessageState:
        """Where one message of a booking stands; ``NotFound`` for a message of another booking."""
        row = await session.get(OutboxMessage, message_id)
        if row is None or row.booking_id != booking_id:
            raise NotFound("no such message")
        return self._state(row.channel, row.status)

    def _state(self, channel: OutboxChannel, status: OutboxStatus) -> MessageState:
        if status is OutboxStatus.NO_GATEWAY or (status is OutboxStatus.PENDING and channel not in self._gateways):
            return MessageState.NO_GATEWAY
        if status is OutboxStatus.PENDING:
            return MessageState.QUEUED
        return MessageState.SENT if status is OutboxStatus.SENT else MessageState.FAILED

    async def requeue(self, session: AsyncSession, message_id: int) -> None:
        """Try a failed or gateway-less message again (e.g. after configuring the gateway)."""
        row = await session.get(OutboxMessage, message_id)
        if row is None:
            raise NotFound("no such message")
        if row.status is not OutboxStatus.SENT:
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = self._clock.now()
            row.attempts = 0
            await session.flush()


class OutboxDispatcher:
    """Sends due messages; call :meth:`dispatch_due` on a schedule (e.g. every 30 s)."""

    def __init__(self, db: Database, clock: Clock, *, email: MessageSender | None, sms: MessageSender | None,
                 max_attempts: int = 8, base_delay: timedelta = timedelta(seconds=30),
                 max_delay: timedelta = timedelta(hours=1), lease: timedelta = timedelta(minutes=5),
                 batch: int = 50) -> None:
        self._db = db
        self._clock = clock
        self._senders: dict[OutboxChannel, MessageSender | None] = {
            OutboxChannel.EMAIL: email, OutboxChannel.SMS: sms}
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._lease = lease
        self._batch = batch

    def backoff(self, attempts: int) -> timedelta:
        """Delay before attempt ``attempts + 1``: doubling from ``base_delay``, capped at ``max_delay``."""
        return min(self._base_delay * (1 << max(attempts - 1, 0)), self._max_delay)

    async def dispatch_due(self) -> DispatchReport:
        """Send every due pending message once; returns what happened."""
        claimed, no_gateway = await self._claim()
        sent = retried = failed = 0
        for message in claimed:
            sender = self._senders[message.channel]
            if sender is None:  # _claim only hands out messages that have a sender
                continue
            error = failure = ""
            try:
                await sender.send(message)
            except Exception as exc:  # any failure of the remote side means "try again later"
                error = f"{type(exc).__name__}: {exc}"[:500]
                failure = failure_code(exc)
                log.warning("outbox message %s not sent: %s", message.id, error)
            outcome = await self._record(message.id, error, failure)
            if outcome is OutboxStatus.SENT:
                sent += 1
            elif outcome is OutboxStatus.FAILED:
                failed += 1
            else:
                retried += 1
        return DispatchReport(sent=sent, retried=retried, failed=failed, no_gateway=no_gateway)

    async def _claim(self) -> tuple[list[OutgoingMessage], int]:
        now = self._clock.now()
        claimed: list[OutgoingMessage] = []
        no_gateway = 0
        async with self._db.session(write_lock=True) as session:
            rows = (await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(self._batch)
            )).scalars().all()
            for row in rows:
                if self._senders[row.channel] is None:
                    # nobody can deliver it: keep it visible, never pretend it was sent
                    row.status = OutboxStatus.NO_GATEWAY
                    row.last_error = f"no {row.channel.value} gateway configured"
                    row.failure = no_gateway_failure(row.channel)
                    no_gateway += 1
                    continue
                row.next_attempt_at = now + self._lease
                claimed.append(OutgoingMessage(row.id, row.channel, row.recipient, row.subject, row.body,
                                               row.ics, row.ics_method))
        return claimed, no_gateway

    async def _record(self, message_id: int, error: str, failure: str) -> OutboxStatus:
        now = self._clock.now()
        async with self._db.session(write_lock=True) as session:
            row = await session.get(OutboxMessage, message_id)
            if row is None:
                return OutboxStatus.FAILED
            row.attempts += 1
            if not error:
                row.status = OutboxStatus.SENT
                row.sent_at = now
                row.last_error = row.failure = ""
                if row.purpose == JOIN_CODE_PURPOSE:
                    row.body = hide_join_codes(row.body)  # delivered: the stored copy need not hold it
            elif row.attempts >= self._max_attempts:
                row.status = OutboxStatus.FAILED
                row.last_error, row.failure = error, failure
            else:
                row.next_attempt_at = now + self.backoff(row.attempts)
                row.last_error, row.failure = error, failure
            return row.status

