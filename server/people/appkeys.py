"""Typed app keys of the people services: accounts, sessions, patients, their access reports."""

from __future__ import annotations

from aiohttp import web

from server.people.access_report import AccessReportService
from server.people.accounts import AccountService
from server.people.organisation_setup import OrganisationSetup
from server.people.patients import PatientService
from server.people.sessions import SessionStore
from server.people.staff_admin import StaffAdmin
from server.people.staff_import import StaffImport

ACCOUNTS = web.AppKey("accounts", AccountService)
SESSIONS = web.AppKey("sessions", SessionStore)
PATIENTS = web.AppKey("patients", PatientService)
ACCESS_REPORTS = web.AppKey("access_reports", AccessReportService)
STAFF_ADMIN = web.AppKey("staff_admin", StaffAdmin)
STAFF_IMPORT = web.AppKey("staff_import", StaffImport)
ORGANISATION_SETUP = web.AppKey("organisation_setup", OrganisationSetup)
