"""One-time join codes for people without a staff login: patients, relatives and interpreters.

A code is 16 characters from a 31-symbol alphabet without look-alikes (0/O, 1/I/L), about 79 bits,
written in groups of four so it can be read out over the phone. Only its SHA-256 is stored: the code
has far too much entropy for a dictionary attack, so a salt would add nothing, and a lookup by hash
keeps the comparison out of Python. The hash is the table's key, so a code alone finds its room: a
guest types it at plain ``/join``. A code is valid for one room, inside a window around the
consultation, and exactly once.

Wrong codes are counted per client address, and only after the code has been checked: a valid code
is always accepted, from any address, however many wrong ones came before it from there or aimed at
its room. There is no lock on a room, which strangers could fill to shut the real patient out (behind
a proxy everyone shares one address). What stops guessing is the code's length: about 79 bits. The
count only tells a client that keeps typing wrong codes to wait (429, ``Retry-After``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from rooms.errors import InvalidInvite, JoinCodeRateLimited, JoinCodeRefused, RefusalReason
from rooms.roster import CODE_ROLES, MAX_NAME_CHARS, Identity, ParticipantRole, is_display_text
from server.platform.clock import Clock
from server.platform.errors import ValidationFailed

log = logging.getLogger(__name__)

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
CODE_BITS = CODE_LENGTH * math.log2(len(ALPHABET))
_GROUP = 4
_MAX_INPUT_CHARS = 64  # anything longer is not a code; refuse before doing work on it
_SEPARATORS = str.maketrans("", "", " -\t\u00a0")

VALID_BEFORE_START = timedelta(minutes=30)
VALID_AFTER_END = timedelta(minutes=30)

# Wrong codes a client may type in the window before it is told to wait.
CLIENT_MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=10)

# Only these count against the limit. A too-early or too-late attempt proves the caller holds the
# genuine code for this room, so it is not guessing: it is told when, never to wait.
_COUNTED = frozenset(
    {RefusalReason.MALFORMED, RefusalReason.UNKNOWN, RefusalReason.OTHER_ROOM, RefusalReason.USED}
)


def generate_code() -> str:
    """A new random code in normalized form; ``format_code`` makes it readable."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(normalized: str) -> str:
    return "-".join(normalized[i : i + _GROUP] for i in range(0, len(normalized), _GROUP))


def normalize_code(text: str) -> str | None:
    """The canonical form of what someone typed (case, spaces and dashes ignored), or None if it
    cannot be a code."""
    if len(text) > _MAX_INPUT_CHARS:
        return None
    code = text.translate(_SEPARATORS).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def hash_code(normalized: str) -> str:
    """The stored form of a normalized code."""
    return hashlib.sha256(normalized.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class JoinCodeRecord:
    """A stored join code: never the code itself, only its hash."""

    code_id: str
    code_hash: str
    room_id: str
    role: ParticipantRole
    display_name: str
    valid_from: datetime
    valid_until: datetime
    created_at: datetime
    created_by: str
    used_at: datetime | None = None


class JoinCodeRepository(Protocol):
    """Where join codes live; the lead backs it with the database."""

    async def add(self, record: JoinCodeRecord) -> None: ...

    async def find(self, code_hash: str) -> JoinCodeRecord | None: ...

    async def mark_used(self, code_hash: str, used_at: datetime) -> bool:
        """Set ``used_at`` if still unused, atomically (``UPDATE ... WHERE used_at IS NULL``); True if
        this call used it. Two concurrent redemptions must not both get True."""
        ...


@dataclass(frozen=True)
class IssuedCode:
    """A new code, formatted for display (``ABCD-EFGH-JKMN-PQRS``). ``code`` is the only time the plain code
    exists: send it (notifier outbox, never the calendar invite), never store or log it."""

    code: str
    record: JoinCodeRecord


@dataclass(frozen=True)
class JoinGrant:
    """What a redeemed code entitles to: a short session for one person in one room."""

    code_id: str
    room_id: str
    role: ParticipantRole
    display_name: str

    @property
    def subject(self) -> str:
        return f"code:{self.code_id}"

    def identity(self, organisation: str = "") -> Identity:
        return Identity(self.subject, self.role, self.display_name, organisation)


class AttemptLimiter:
    """Counts failures per key in a sliding window and says how long a key must wait.

    In memory, per process; with several nodes it belongs in Redis (architecture.md, "Data").
    """

    def __init__(self, *, max_failures: int, window: timedelta, max_keys: int = 100_000) -> None:
        self._max = max_failures
        self._window = window
        self._max_keys = max_keys
        self._failures: dict[str, deque[datetime]] = {}

    def retry_after(self, key: str, now: datetime) -> timedelta | None:
        """None if the key may try now, else how long until it may."""
        failures = self._recent(key, now)
        if len(failures) < self._max:
            return None
        return failures[0] + self._window - now

    def record_failure(self, key: str, now: datetime) -> None:
        if len(self._failures) >= self._max_keys:
            self.prune(now)  # bounded memory against a flood of distinct client keys
        self._recent(key, now).append(now)

    def tracked_keys(self) -> frozenset[str]:
        """The keys failures are held for: what the limiter's memory grows with (at most ``max_keys``)."""
        return frozenset(self._failures)

    def prune(self, now: datetime) -> None:
        """Forget keys with no failure inside the window."""
        for key in [k for k, q in self._failures.items() if not q or q[-1] + self._window <= now]:
            del self._failures[key]

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] + self._window <= now:
            failures.popleft()
        return failures


class JoinCodeService:
    """Issues join codes and exchanges them, once, for a ``JoinGrant``."""

    def __init__(
        self,
        repository: JoinCodeRepository,
        *,
        clock: Clock,
        client_limiter: AttemptLimiter | None = None,
        valid_before_start: timedelta = VALID_BEFORE_START,
        valid_after_end: timedelta = VALID_AFTER_END,
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._client_limiter = client_limiter or AttemptLimiter(
            max_failures=CLIENT_MAX_FAILURES, window=FAILURE_WINDOW
        )
        self._before = valid_before_start
        self._after = valid_after_end

    async def issue(
        self,
        *,
        room_id: str,
        role: ParticipantRole,
        display_name: str,
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
    ) -> IssuedCode:
        """Make a code for one person, valid from a while before ``starts_at`` until a while after
        ``ends_at``."""
        if role not in CODE_ROLES:
            raise InvalidInvite("staff join with their own login, not a join code")
        if not is_display_text(display_name, MAX_NAME_CHARS):
            raise InvalidInvite("the name must be 1-100 printable characters")
        normalized = generate_code()
        record = JoinCodeRecord(
            code_id=secrets.token_urlsafe(12),
            code_hash=hash_code(normalized),
            room_id=room_id,
            role=role,
            display_name=display_name,
            valid_from=starts_at - self._before,
            valid_until=ends_at + self._after,
            created_at=self._clock.now(),
            created_by=created_by,
        )
        await self._repository.add(record)
        return IssuedCode(format_code(normalized), record)

    async def sendable(self, code: str, *, room_id: str) -> JoinCodeRecord:
        """The record of a code that staff of ``room_id`` hold and want to send on: it must be one of
        this room's codes, unused and not expired. Looked up by hash, like a redemption; refusals are
        ``ValidationFailed`` on the field ``code``. Not rate limited: only the room's own staff ask."""
        normalized = normalize_code(code)
        record = None if normalized is None else await self._repository.find(hash_code(normalized))
        if record is None or record.room_id != room_id:
            # unknown and "another room's" are one answer: staff of one room learn nothing of others
            raise ValidationFailed("not a code of this consultation", {"code": "join_code_not_for_booking"})
        if record.used_at is not None:
            raise ValidationFailed("this code has been used", {"code": "code_used_make_new"})
        if self._clock.now() >= record.valid_until:
            raise ValidationFailed("this code has expired", {"code": "code_expired_make_new"})
        return record

    async def redeem(self, code: str, *, room_id: str | None, client_key: str) -> JoinGrant:
        """Exchange a code for a grant to its room; with ``room_id``, only to that room.

        The code is always checked first, so a valid code is accepted whatever the client (an address)
        or anyone else tried before. A refused code raises ``JoinCodeRefused`` with the precise
        ``reason`` for the audit log and a ``code`` that tells the caller no more than is safe; a wrong
        code from a client that has typed too many wrong ones lately raises ``JoinCodeRateLimited``
        instead (and is not counted again, as a refused login try is not).
        """
        now = self._clock.now()
        normalized = normalize_code(code)
        record = None if normalized is None else await self._repository.find(hash_code(normalized))
        try:
            return await self._redeem(normalized, record, room_id, now)
        except JoinCodeRefused as refused:
            if refused.reason not in _COUNTED:
                log.info("join code refused for room %s: %s", room_id or "(by code)", refused.reason)
                raise
            key = f"client:{client_key}"
            wait = self._client_limiter.retry_after(key, now)
            if wait is not None:
                log.warning("wrong join codes rate limited for room %s: %s", room_id or "(by code)", refused.reason)
                raise JoinCodeRateLimited("too many attempts; try again later",
                                          retry_after_seconds=max(1, math.ceil(wait.total_seconds()))) from None
            self._client_limiter.record_failure(key, now)
            log.info("join code refused for room %s: %s", room_id or "(by code)", refused.reason)
            raise

    async def _redeem(self, normalized: str | None, record: JoinCodeRecord | None, room_id: str | None,
                      now: datetime) -> JoinGrant:
        """Checks what was typed (``normalized`` None: not a code) and the record it found, then uses it."""
        if normalized is None:
            raise _refused(RefusalReason.MALFORMED)
        if record is None:
            raise _refused(RefusalReason.UNKNOWN)
        if room_id is not None and record.room_id != room_id:
            raise _refused(RefusalReason.OTHER_ROOM)
        if record.used_at is not None:
            raise _refused(RefusalReason.USED)
        if now < record.valid_from:
            raise JoinCodeRefused(
                "this code is not valid yet",
                reason=RefusalReason.NOT_YET_VALID,
                valid_from=record.valid_from,
                code="join_code_not_yet_valid",
            )
        if now >= record.valid_until:
            raise JoinCodeRefused(
                "this code has expired", reason=RefusalReason.EXPIRED, code="join_code_expired"
            )
        if not await self._repository.mark_used(record.code_hash, now):
            raise _refused(RefusalReason.USED)  # lost a race with a concurrent redemption
        return JoinGrant(record.code_id, record.room_id, record.role, record.display_name)


def _refused(reason: RefusalReason) -> JoinCodeRefused:
    # One message and one code for all of these: the caller must not learn whether a code exists,
    # belongs to another room or was already used.
    return JoinCodeRefused("this code cannot be used", reason=reason)
