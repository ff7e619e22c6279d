"""Typed app keys of the people services: accounts, sessions, patients, their access reports."""

from __future__ import annotations

from aiohttp import web

from server.people.access_report import AccessReportService
from server.people.accounts import AccountService
from server.people.patients import PatientService
from server.people.sessions import SessionStore

ACCOUNTS = web.AppKey("accounts", AccountService)
SESSIONS = web.AppKey("sessions", SessionStore)
PATIENTS = web.AppKey("patients", PatientService)
ACCESS_REPORTS = web.AppKey("access_reports", AccessReportService)
