"""Browser sessions stored server-side; the cookie holds a random token, the table only its hash.

Lifetime 12 hours, 30 minutes idle (both from settings). A session that has passed the password
but not the second factor can do nothing but finish logging in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defaultload

from server.people.models import Organisation, User, WebSession
from server.platform.clock import Clock

COOKIE_NAME = "__Host-samkonsult"

# A session with its user (if any), and the user's organisation and department but not every department
# of that organisation (a selectin load of its own on each request, a fifth of a short page's time).
_SESSION_AND_USER = (
    select(WebSession, User)
    .outerjoin(User, User.id == WebSession.user_id)
    .options(defaultload(User.organisation).lazyload(Organisation.departments))
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class SessionLookup:
    """What reading a cookie's session found, and whether the row must then be written."""

    row: WebSession | None
    """The live session; None when unknown or expired."""
    token_hash: str = ""
    expired: bool = False
    """The row exists but has expired: it is to be deleted."""
    stale: bool = False
    """The row was last seen more than a minute ago: ``last_seen_at`` is to be moved on."""
    user: User | None = None
    """The live session's user, read with it (active or not: the caller decides what that means)."""

    @property
    def needs_write(self) -> bool:
        return self.expired or self.stale


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: timedelta
    idle: timedelta


class SessionStore:
    """Creates, reads, refreshes and ends browser sessions."""

    def __init__(self, clock: Clock, policy: SessionPolicy) -> None:
        self._clock = clock
        self._policy = policy

    async def create(self, session: AsyncSession, *, user_id: int | None, language: str,
                     second_factor_done: bool) -> tuple[str, WebSession]:
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        row = WebSession(
            token_hash=_hash(token), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
            second_factor_done=second_factor_done, language=language, created_at=now, last_seen_at=now,
        )
        session.add(row)
        await session.flush()
        return token, row

    async def read(self, session: AsyncSession, token: str) -> SessionLookup:
        """The live session for a cookie token, without writing (for a read-only unit of work).

        What ``load`` would change is left to :meth:`write_back`, in a short unit of work of its own:
        a request that only reads then never waits for, nor holds, SQLite's write lock.
        """
        if not token or len(token) > 128:
            return SessionLookup(None)
        token_hash = _hash(token)
        # The session and its user in one query: every page asks for both.
        found = (await session.execute(_SESSION_AND_USER.where(WebSession.token_hash == token_hash))).first()
        if found is None:
            return SessionLookup(None, token_hash)
        row, user = found
        now = self._clock.now()
        if now - row.created_at > self._policy.lifetime or now - row.last_seen_at > self._policy.idle:
            return SessionLookup(None, token_hash, expired=True)
        # Writing on every request would serialise all readers on SQLite; a minute is precise enough.
        return SessionLookup(row, token_hash, stale=now - row.last_seen_at > timedelta(minutes=1), user=user)

    async def write_back(self, session: AsyncSession, found: SessionLookup) -> None:
        """Delete the expired session or move a stale one's ``last_seen_at`` on, as :meth:`read` found."""
        if found.expired:
            await session.execute(delete(WebSession).where(WebSession.token_hash == found.token_hash))
        elif found.stale:
            now = self._clock.now()
            await session.execute(update(WebSession).where(WebSession.token_hash == found.token_hash)
                                  .values(last_seen_at=now))
            if found.row is not None:
                found.row.last_seen_at = now

    async def end(self, session: AsyncSession, token: str) -> None:
        await session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))

    async def set_language(self, session: AsyncSession, token_hash: str, language: str) -> None:
        await session.execute(
            update(WebSession).where(WebSession.token_hash == token_hash).values(language=language)
        )

    async def end_all_for_user(self, session: AsyncSession, user_id: int) -> None:
        await session.execute(delete(WebSession).where(WebSession.user_id == user_id))

    async def restart_for_user(self, session: AsyncSession, user_id: int, language: str) -> tuple[str, WebSession]:
        """End every session of the user and open one new, fully logged-in session for the caller.

        Used when the password changes: whoever knew the old password may hold a session in another
        browser, and the one making the change gets a new token so a copy of the old cookie is worthless.
        """
        await self.end_all_for_user(session, user_id)
        return await self.create(session, user_id=user_id, language=language, second_factor_done=True)

    async def purge_expired(self, session: AsyncSession) -> None:
        now = self._clock.now()
        await session.execute(
            delete(WebSession).where(
                (WebSession.created_at < now - self._policy.lifetime)
                | (WebSession.last_seen_at < now - self._policy.idle)
            )
        )
