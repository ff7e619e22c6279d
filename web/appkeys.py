"""Typed app keys of the domain services the HTTP handlers call: scheduling and notes."""

from __future__ import annotations

from aiohttp import web

from notes.export_workers import ExportWorkers
from notes.service import NoteService
from scheduling.services.factory import SchedulingServices

SCHEDULING = web.AppKey("scheduling", SchedulingServices)
NOTES = web.AppKey("notes", NoteService)
NOTE_EXPORTS = web.AppKey("note_exports", ExportWorkers)
