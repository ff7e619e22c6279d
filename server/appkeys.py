"""Typed keys for the app-wide objects; the one place that lists what an app holds."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from notes.service import NoteService
from rooms.join_codes import JoinCodeService
from rooms.registry import BookingDirectory, GuestAccess, LiveRegistry
from scheduling.services.factory import SchedulingServices
from server.accounts import AccountService
from server.audit import AuditLog
from server.clock import Clock
from server.db import Database
from server.patients import PatientService
from server.sessions import SessionStore
from server.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)  # type: ignore[type-abstract]
DATABASE = web.AppKey("database", Database)
AUDIT = web.AppKey("audit", AuditLog)
ACCOUNTS = web.AppKey("accounts", AccountService)
SESSIONS = web.AppKey("sessions", SessionStore)
PATIENTS = web.AppKey("patients", PatientService)
SCHEDULING = web.AppKey("scheduling", SchedulingServices)
NOTES = web.AppKey("notes", NoteService)

# The live consultation, shared by the call pages (web) and the socket (signaling); built in server/app.py.
BookingDirectoryFactory = Callable[[Database], BookingDirectory]
LIVE_REGISTRY = web.AppKey("live_registry", LiveRegistry)
JOIN_CODES = web.AppKey("join_codes", JoinCodeService)
GUEST_ACCESS = web.AppKey("guest_access", GuestAccess)
# Tests may replace the directory (bookings the live side can see) before the app starts.
BOOKING_DIRECTORY_FACTORY: web.AppKey[BookingDirectoryFactory] = web.AppKey("booking_directory_factory")
