"""Typed app keys of the domain services the HTTP handlers call: scheduling and notes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from notes.export_workers import ExportWorkers
from notes.live import NoteHub
from notes.service import NoteService
from scheduling.services.factory import SchedulingServices
from server.platform.actors import Actor

SCHEDULING = web.AppKey("scheduling", SchedulingServices)
NOTES = web.AppKey("notes", NoteService)
NOTE_EXPORTS = web.AppKey("note_exports", ExportWorkers)
# Who has which note open, in this process; saves, signatures and amendments are pushed through it.
NOTE_HUB = web.AppKey("note_hub", NoteHub)
# The browser's ICE servers (STUN, TURN with fresh credentials) for a subject, as RTCIceServer objects;
# built in the composition root from the same settings and code the call uses.
BrowserIceServers = Callable[[str], list[dict[str, Any]]]
BROWSER_ICE_SERVERS: web.AppKey[BrowserIceServers] = web.AppKey("browser_ice_servers")



class OpenedRecording(Protocol):
    def chunks(self, part: int) -> Iterator[bytes]:
        """The plaintext of one part, chunk by chunk."""


class RecordingListing(Protocol):
    """One recording as listed for staff of the consultation."""

    @property
    def public_id(self) -> str: ...

    @property
    def purpose(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def started_at(self) -> datetime: ...

    @property
    def stopped_at(self) -> datetime | None: ...

    @property
    def stop_reason(self) -> str | None: ...

    @property
    def delete_after(self) -> datetime: ...

    @property
    def parts(self) -> int: ...

    @property
    def size_bytes(self) -> int: ...


class RecordingAccess(Protocol):
    """The recordings as the API uses them (the composition root's recording store)."""

    async def for_booking(self, booking_public_id: str, actor: Actor) -> Sequence[RecordingListing]: ...

    async def delete(self, public_id: str, actor: Actor, reason: str) -> None: ...

    async def open_for_playback(self, public_id: str, actor: Actor, reason: str) -> OpenedRecording: ...


# Absent when the server keeps no recordings (no SAMKONSULT_RECORDING_KEY).
RECORDING_ACCESS: web.AppKey[RecordingAccess] = web.AppKey("recording_access")
