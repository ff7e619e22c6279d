"""Typed app keys of the domain services the HTTP handlers call: scheduling and notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from notes.export_workers import ExportWorkers
from notes.live import NoteHub
from notes.service import NoteService
from scheduling.services.factory import SchedulingServices

SCHEDULING = web.AppKey("scheduling", SchedulingServices)
NOTES = web.AppKey("notes", NoteService)
NOTE_EXPORTS = web.AppKey("note_exports", ExportWorkers)
# Who has which note open, in this process; saves, signatures and amendments are pushed through it.
NOTE_HUB = web.AppKey("note_hub", NoteHub)
# The browser's ICE servers (STUN, TURN with fresh credentials) for a subject, as RTCIceServer objects;
# built in the composition root from the same settings and code the call uses.
BrowserIceServers = Callable[[str], list[dict[str, Any]]]
BROWSER_ICE_SERVERS: web.AppKey[BrowserIceServers] = web.AppKey("browser_ice_servers")
