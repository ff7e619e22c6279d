"""The composition root: ``create_app(settings)`` wires every package together.

Nothing happens at import time; the database engine lives in a cleanup context so it is
opened when the app starts and disposed when it stops.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp_jinja2
import jinja2
from aiohttp import web
from redis.asyncio import Redis

from notes.export_workers import ExportWorkers
from notes.live import NoteHub
from notes.service import NoteService
from rooms.appkeys import (
    BOOKING_DIRECTORY_FACTORY,
    CONNECTION_CHECKS,
    GUEST_ACCESS,
    JOIN_CODES,
    LIVE_REGISTRY,
    MEDIA_WORKERS,
)
from rooms.join_codes import JoinCodeService
from rooms.live_media import default_peer_factory, in_process_media
from rooms.media import check_forwarding_mode
from rooms.media.connection_check import ConnectionCheckService
from rooms.media_workers import MediaWorkerPool
from rooms.models import GuestSessionStore, SqlJoinCodeRepository
from rooms.registry import GuestAccess, LiveRegistry
from scheduling.feed_addresses import FeedAddressPolicy
from scheduling.models import OutboxChannel
from scheduling.outbox import OutboxDispatcher, SmtpEmailSender, SmtpSettings
from scheduling.services.factory import SchedulingServices
from scheduling.services.notifications import NotificationSettings
from server.booking_directory import SqlBookingDirectory
from server.browser_ice import check_ice_servers
from server.call_readings import NoteReadingSink
from server.consultation_directory import SqlConsultationDirectory
from server.jobs import Job, JobRunner
from server.media_worker import worker_command
from server.people.access_report import AccessReportService
from server.people.accounts import AccountService
from server.people.appkeys import (
    ACCESS_REPORTS,
    ACCOUNTS,
    ORGANISATION_SETUP,
    PATIENTS,
    SESSIONS,
    STAFF_ADMIN,
    STAFF_IMPORT,
)
from server.people.organisation_setup import OrganisationSetup
from server.people.patients import PatientService
from server.people.sessions import SessionPolicy, SessionStore
from server.people.staff_admin import StaffAdmin
from server.people.staff_import import StaffImport
from server.people.totp import TotpCipher
from server.platform.appkeys import AUDIT, CLOCK, DATABASE, SETTINGS
from server.platform.audit import configured_audit_log
from server.platform.clock import Clock, SystemClock
from server.platform.db import Database, create_engine
from server.platform.settings import Settings
from server.recorder import make_recorder
from server.recording_rules import PolicyRecordingRules
from server.recordings import RECORDINGS, recording_store
from server.redis_note_relay import RedisNoteRelay
from server.redis_placement import RedisPlacement
from server.sms_gateway import HttpSmsSender, SmsGatewaySettings
from server.staff_calendars import SqlStaffCalendars
from signaling.setup import setup_signaling
from web import i18n
from web.appkeys import BROWSER_ICE_SERVERS, NOTE_EXPORTS, NOTE_HUB, NOTES, RECORDING_ACCESS, SCHEDULING
from web.context import caller
from web.metrics import METRICS, create_metrics
from web.middleware import (
    csrf_middleware,
    error_middleware,
    metrics_middleware,
    security_headers_middleware,
    session_middleware,
)
from web.refusals import REFUSALS, RefusalLog
from web.routes import setup_routes
from web.security import name_the_server

log = logging.getLogger(__name__)


def _jinja_environment(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    """Build the application for these settings (and a clock, for tests)."""
    the_clock = clock or SystemClock()
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[
            metrics_middleware,
            security_headers_middleware,
            error_middleware,
            session_middleware,
            csrf_middleware,
        ],
    )
    app.on_response_prepare.append(name_the_server)
    app[SETTINGS] = settings
    app[CLOCK] = the_clock
    app[METRICS] = create_metrics()
    audit = configured_audit_log(the_clock, settings)
    app[AUDIT] = audit
    app[REFUSALS] = RefusalLog()
    app[ACCOUNTS] = AccountService(
        the_clock, audit, TotpCipher(settings.totp_encryption_key),
        failed_login_limit=settings.failed_login_limit_per_hour,
        relax_totp_for_demo=settings.demo_mode and settings.demo_relax_totp,
    )
    app[SESSIONS] = SessionStore(the_clock, SessionPolicy(
        lifetime=timedelta(minutes=settings.session_lifetime_minutes),
        idle=timedelta(minutes=settings.session_idle_minutes),
    ))
    app[PATIENTS] = PatientService(the_clock, audit)
    app[STAFF_ADMIN] = StaffAdmin(audit, SqlStaffCalendars())
    app[STAFF_IMPORT] = StaffImport(the_clock, audit)
    app[ORGANISATION_SETUP] = OrganisationSetup(audit)
    app[ACCESS_REPORTS] = AccessReportService(the_clock, audit, app[PATIENTS])
    i18n.load_catalogues()
    _jinja_environment(app)
    app.cleanup_ctx.append(_database_context)
    app[BOOKING_DIRECTORY_FACTORY] = SqlBookingDirectory  # tests may replace it before the app starts
    if settings.media_workers > 0:
        app.cleanup_ctx.append(_media_workers_context)  # before the live rooms, which pin their media there
    app.cleanup_ctx.append(_live_context)  # after the database: the live services need it
    app[SCHEDULING] = SchedulingServices.create(the_clock, audit, NotificationSettings(
        public_url=settings.public_url, organizer_email=settings.smtp_sender,
        reminder_lead=timedelta(hours=settings.reminder_hours)), app[PATIENTS],
        gateways=_gateways(settings),
        feed_policy=FeedAddressPolicy.from_entries(settings.calendar_feed_allowed_hosts))
    app[NOTES] = NoteService(the_clock, audit, app[PATIENTS], SqlConsultationDirectory())
    app[NOTE_EXPORTS] = ExportWorkers()
    app[NOTE_HUB] = NoteHub()
    if settings.redis_url:
        app.cleanup_ctx.append(_note_relay_context)  # saves reach the note's editors on the other nodes
    app.on_cleanup.append(_close_note_exports)
    app[BROWSER_ICE_SERVERS] = check_ice_servers(settings, the_clock)
    app.cleanup_ctx.append(_connection_check_context)
    if settings.background_jobs:
        app.cleanup_ctx.append(_jobs_context)
    setup_routes(app)
    setup_signaling(app, caller=caller)  # /ws reads who is calling as the call pages do
    return app


async def _note_relay_context(app: web.Application) -> AsyncIterator[None]:
    relay = RedisNoteRelay(Redis.from_url(app[SETTINGS].redis_url), app[NOTE_HUB])
    await relay.start()
    yield
    await relay.close()


async def _close_note_exports(app: web.Application) -> None:
    await app[NOTE_EXPORTS].close()


async def _database_context(app: web.Application) -> AsyncIterator[None]:
    database = Database(create_engine(app[SETTINGS].database_url))
    app[DATABASE] = database
    log.info("database opened (%s)", database.engine.dialect.name)
    yield
    await database.close()
    log.info("database closed")


async def _media_workers_context(app: web.Application) -> AsyncIterator[None]:
    """The media worker processes; stopped after the live rooms have closed their media in them."""
    settings = app[SETTINGS]
    pool = MediaWorkerPool(settings.media_workers, worker_command(check_forwarding_mode(settings.media_forwarding)))
    await pool.start()
    app[MEDIA_WORKERS] = pool
    yield
    await pool.close()


async def _live_context(app: web.Application) -> AsyncIterator[None]:
    """The live consultation's services: join codes, the registry of live rooms, guest access."""
    database, clock = app[DATABASE], app[CLOCK]
    codes = JoinCodeService(SqlJoinCodeRepository(database), clock=clock)
    pool = app.get(MEDIA_WORKERS)
    settings = app[SETTINGS]
    placement = None
    if settings.redis_url:
        placement = RedisPlacement(Redis.from_url(settings.redis_url),
                                   settings.node_url or settings.public_url)
        await placement.start()
    recordings = recording_store(settings, database, clock, app[AUDIT])
    if recordings is not None:
        app[RECORDINGS] = recordings
        app[RECORDING_ACCESS] = recordings
        if not settings.redis_url:  # the only node: a recording still running was cut by our own stop
            await recordings.close_interrupted()
    media_factory = (pool.room_media if pool is not None
                     else in_process_media(default_peer_factory, make_recorder if recordings is not None else None,
                                           forwarding=check_forwarding_mode(settings.media_forwarding)))
    registry = LiveRegistry(
        app[BOOKING_DIRECTORY_FACTORY](database), database=database, audit=app[AUDIT], clock=clock,
        join_codes=codes, reading_sink=NoteReadingSink(database, app[NOTES]),
        media_factory=media_factory,
        placement=placement,
        open_before=timedelta(minutes=app[SETTINGS].room_opens_minutes_before),
        recording_rules=PolicyRecordingRules() if recordings is not None else None,
        recording_keeper=recordings,
    )
    app[JOIN_CODES] = codes
    app[LIVE_REGISTRY] = registry
    app[GUEST_ACCESS] = GuestAccess(registry, codes, GuestSessionStore(database, clock), clock)
    registry.start()
    yield
    await registry.close()
    if placement is not None:
        await placement.close()


async def _connection_check_context(app: web.Application) -> AsyncIterator[None]:
    """The device check's media round trips; none outlives the app."""
    checks = ConnectionCheckService(clock=app[CLOCK])
    app[CONNECTION_CHECKS] = checks
    yield
    await checks.close()


def _smtp_settings(settings: Settings) -> SmtpSettings | None:
    """The SMTP part of the server settings; ``None`` when no host is configured."""
    if not settings.smtp_host:
        return None
    return SmtpSettings(host=settings.smtp_host, port=settings.smtp_port, use_tls=settings.smtp_tls,
                        start_tls=settings.smtp_starttls, username=settings.smtp_username,
                        password=settings.smtp_password, sender=settings.smtp_sender)


def _sms_settings(settings: Settings) -> SmsGatewaySettings | None:
    """The SMS gateway part of the server settings; ``None`` when no gateway URL is configured."""
    if not settings.sms_gateway_url:
        return None
    return SmsGatewaySettings(url=settings.sms_gateway_url, token=settings.sms_gateway_token,
                              sender=settings.sms_sender)


def _gateways(settings: Settings) -> frozenset[OutboxChannel]:
    """The channels the outbox dispatcher below can send on: email with an SMTP host, SMS with a gateway."""
    channels = set()
    if _smtp_settings(settings):
        channels.add(OutboxChannel.EMAIL)
    if _sms_settings(settings):
        channels.add(OutboxChannel.SMS)
    return frozenset(channels)


async def _jobs_context(app: web.Application) -> AsyncIterator[None]:
    settings, database, clock, scheduling = app[SETTINGS], app[DATABASE], app[CLOCK], app[SCHEDULING]
    smtp = _smtp_settings(settings)
    sms = _sms_settings(settings)
    dispatcher = OutboxDispatcher(database, clock, email=SmtpEmailSender(smtp, clock) if smtp else None,
                                  sms=HttpSmsSender(sms) if sms else None)

    async def reminders() -> None:
        async with database.session(write_lock=True) as session:
            await scheduling.notifier.queue_due_reminders(session)

    audit = app[AUDIT]

    async def audit_checkpoint() -> None:
        async with database.session(read_only=True) as session:
            await audit.write_checkpoint(session)

    recordings = app.get(RECORDINGS)
    runner = JobRunner([
        *([Job("recording-retention", 600, recordings.delete_expired)] if recordings is not None else []),
        Job("audit-checkpoint", settings.audit_checkpoint_minutes * 60, audit_checkpoint),
        Job("outbox", 15, dispatcher.dispatch_due),
        Job("reminders", 60, reminders),
        Job("calendar-feeds", 300, lambda: scheduling.calendars.refresh_feeds(database)),
    ])
    runner.start()
    yield
    await runner.close()
    # The last checkpoint at shutdown: the rows of the final minutes are covered too.
    try:
        await audit_checkpoint()
    except Exception:  # stopping goes on; the next start's first round writes one
        log.exception("could not write the audit checkpoint at shutdown")
