"""Busy times imported from the resources' own calendars: uploaded ``.ics`` files and subscribed feeds.

None of this is health data, so nothing here is audited; changing it needs an administrator or a
coordinator. A failed feed keeps the busy times of its last good import.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.calendar_fetch import CalendarFetchError, check_feed_url, fetch_calendar, redact_feed_url
from scheduling.errors import InvalidCalendar
from scheduling.feed_addresses import FeedAddressPolicy
from scheduling.ical_import import parse_busy
from scheduling.intervals import Interval
from scheduling.models import CalendarSource, CalendarSourceKind, ImportedBusyInterval
from scheduling.services.common import ADMIN_ROLES, require_roles
from scheduling.services.resources import ResourceService
from scheduling.services.views import CalendarImportResult, CalendarSourceView
from server.platform.actors import Actor
from server.platform.clock import Clock
from server.platform.db import Database
from server.platform.errors import DomainError, NotFound, ValidationFailed

log = logging.getLogger(__name__)

# How far ahead imported busy times are kept: slot search rarely looks further, parse_busy allows 400 days.
IMPORT_HORIZON = timedelta(days=365)
IMPORT_PAST = timedelta(days=7)

Fetcher = Callable[[str], Awaitable[bytes]]


def _source_view(s: CalendarSource) -> CalendarSourceView:
    return CalendarSourceView(id=s.id, resource_id=s.resource_id, kind=s.kind,
                              url=redact_feed_url(s.url),
                              last_good_import_at=s.last_good_import_at, last_attempt_at=s.last_attempt_at,
                              last_error=s.last_error, occurrences=s.occurrences)


def _stored_message(error: DomainError) -> str:
    """A fixed sentence for a failed feed: never anything the far end sent, which could be the answer
    of an internal service (the code says which kind of failure it was)."""
    if isinstance(error, CalendarFetchError):
        return error.message  # already one of FETCH_MESSAGES
    return "the feed is not a calendar that can be read"


@dataclass(frozen=True)
class FeedRefreshResult:
    """One feed refresh: ``error`` is empty on success (then ``result`` says what was kept)."""

    source_id: int
    error_code: str = ""
    error: str = ""
    result: CalendarImportResult | None = None


class CalendarSourceService:
    """Imports uploaded calendars and refreshes subscribed feeds into the resources' busy times."""

    def __init__(self, clock: Clock, resources: ResourceService,
                 feed_policy: FeedAddressPolicy | None = None) -> None:
        """``feed_policy``: which addresses feeds may be fetched from (default: public ones only)."""
        self._clock = clock
        self._resources = resources
        self._feed_policy = feed_policy or FeedAddressPolicy()

    async def import_ics(self, session: AsyncSession, actor: Actor, resource_id: int,
                         data: bytes) -> CalendarImportResult:
        """Replace the uploaded busy times of a resource with those in ``data`` (an ``.ics`` file).

        A bad file raises ``ValidationFailed`` (field ``file``) and changes nothing.
        """
        require_roles(actor, *ADMIN_ROLES, what="import calendars")
        await self._resources.get_resource(session, resource_id)
        source = (await session.execute(select(CalendarSource).where(
            CalendarSource.resource_id == resource_id, CalendarSource.kind == CalendarSourceKind.UPLOAD))
        ).scalar_one_or_none()
        if source is None:
            source = CalendarSource(resource_id=resource_id, kind=CalendarSourceKind.UPLOAD, url="", active=True,
                                    last_error="", occurrences=0, created_at=self._clock.now())
            session.add(source)
            await session.flush()
        try:
            return await self._store_import(session, source, data)
        except InvalidCalendar as exc:
            raise ValidationFailed.for_field("file", exc) from exc

    async def add_feed_source(self, session: AsyncSession, actor: Actor, resource_id: int,
                              url: str) -> CalendarSourceView:
        """Register a calendar feed URL; it is fetched by :meth:`refresh_feeds`."""
        require_roles(actor, *ADMIN_ROLES, what="import calendars")
        await self._resources.get_resource(session, resource_id)
        try:
            url = check_feed_url(url, self._feed_policy)
        except CalendarFetchError as exc:
            raise ValidationFailed.for_field("url", exc) from exc
        source = CalendarSource(resource_id=resource_id, kind=CalendarSourceKind.FEED, url=url, active=True,
                                last_error="", occurrences=0, created_at=self._clock.now())
        session.add(source)
        await session.flush()
        return _source_view(source)

    async def remove_source(self, session: AsyncSession, actor: Actor, source_id: int) -> None:
        """Forget a calendar source and the busy times it brought."""
        require_roles(actor, *ADMIN_ROLES, what="import calendars")
        source = await session.get(CalendarSource, source_id)
        if source is None:
            raise NotFound("no such calendar source")
        await session.delete(source)
        await session.flush()

    async def list_sources(self, session: AsyncSession, resource_id: int) -> list[CalendarSourceView]:
        rows = (await session.execute(select(CalendarSource).where(CalendarSource.resource_id == resource_id)
                                      .order_by(CalendarSource.id))).scalars().all()
        return [_source_view(s) for s in rows]

    async def refresh_feeds(self, db: Database, *, fetch: Fetcher | None = None,
                            older_than: timedelta = timedelta(minutes=15)) -> list[FeedRefreshResult]:
        """Fetch every feed not attempted within ``older_than``; run it on a schedule.

        The network is used outside any transaction (a slow feed must not hold the SQLite write lock).
        A failure only records ``last_error``: the busy times of the last good import stay.
        """
        policy = self._feed_policy

        async def fetch_checked(url: str) -> bytes:
            return await fetch_calendar(url, policy=policy)

        fetch_one: Fetcher = fetch or fetch_checked
        cutoff = self._clock.now() - older_than
        async with db.session() as session:
            due = (await session.execute(
                select(CalendarSource.id, CalendarSource.url).where(
                    CalendarSource.kind == CalendarSourceKind.FEED, CalendarSource.active.is_(True),
                    (CalendarSource.last_attempt_at.is_(None)) | (CalendarSource.last_attempt_at <= cutoff))
                .order_by(CalendarSource.id))).all()
        results: list[FeedRefreshResult] = []
        for source_id, url in due:
            results.append(await self.refresh_source(db, source_id, url, fetch_one))
        return results

    async def refresh_source(self, db: Database, source_id: int, url: str, fetch: Fetcher) -> FeedRefreshResult:
        """Fetch one feed and store its busy times, or record why not."""
        error: DomainError | None = None
        data = b""
        try:
            data = await fetch(url)
        except CalendarFetchError as exc:
            error = exc
        async with db.session() as session:
            source = await session.get(CalendarSource, source_id)
            if source is None:
                return FeedRefreshResult(source_id, "not_found", "source removed")
            source.last_attempt_at = self._clock.now()
            if error is None:
                try:
                    async with session.begin_nested():
                        result = await self._store_import(session, source, data)
                    return FeedRefreshResult(source_id, result=result)
                except InvalidCalendar as exc:
                    # its message may quote what the server sent; only the code is kept (see below)
                    error = exc
            source.last_error = f"{error.code}: {_stored_message(error)}"[:500]
            log.info("calendar feed %s kept its last good import: %s", source_id, source.last_error)
            return FeedRefreshResult(source_id, error.code, _stored_message(error))

    async def _store_import(self, session: AsyncSession, source: CalendarSource, data: bytes) -> CalendarImportResult:
        resource = await self._resources.get_resource(session, source.resource_id)
        now = self._clock.now()
        # Unfolding recurrences of a large calendar is CPU work that grows with the file; a worker thread
        # keeps the event loop (and every call's signaling) answering meanwhile.
        parsed = await asyncio.to_thread(parse_busy, data, Interval(now - IMPORT_PAST, now + IMPORT_HORIZON),
                                         default_tz=resource.timezone)
        await session.execute(delete(ImportedBusyInterval).where(ImportedBusyInterval.source_id == source.id))
        count = 0
        for start, end in parsed.busy.pairs():
            session.add(ImportedBusyInterval(source_id=source.id, resource_id=source.resource_id, start=start,
                                             end=end))
            count += 1
        source.last_good_import_at = now
        source.last_attempt_at = now
        source.last_error = ""
        source.occurrences = parsed.occurrences
        await session.flush()
        return CalendarImportResult(source_id=source.id, intervals=count, occurrences=parsed.occurrences,
                                    ignored_free=parsed.ignored_free, ignored_cancelled=parsed.ignored_cancelled,
                                    imported_at=now)
